"""The scale benchmark's figures beside their targets (issue 12), and the table of them.

A check is one figure as measured, its target, and whether it met it; the JSON
holds the checks as they are, and the table prints them, then the details.
"""

from __future__ import annotations

from typing import Any

LIST_MS = 50
SEARCH_MS = 100
HISTORY_MS = 50
CLI_LIST_S = 0.5
TTFT_FLAT_MS = 5
RUN_HISTORY_BYTES = 5_000_000
REDIS_IDLE_BYTES = 50_000_000

Check = dict[str, Any]


def _check(figure: str, value: float | None, shown: str, target: str, met: bool | None) -> Check:
    """``met`` None: a figure others are compared with, without a target of its own."""
    return {"figure": figure, "value": value, "shown": shown, "target": target, "met": met}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def _mb(value: float) -> str:
    return f"{value / 1e6:,.2f} MB"


def _under_ms(figure: str, timing: dict[str, Any], limit: float) -> Check:
    median = timing["median"]
    return _check(f"{figure}, median of {timing['runs']}", median, _ms(median),
                  f"< {limit:g} ms", median < limit)  # fmt: skip


def _history(where: str, h: dict[str, Any]) -> Check:
    return _under_ms(
        f"history, {where}: last {h['turns_read']} of {h['turns_in_conversation']:,} turns",
        h, HISTORY_MS,
    )  # fmt: skip


def read_checks(r: dict[str, Any]) -> list[Check]:
    reads = r["reads"]
    out = [
        _under_ms(f"list (client API), {reads['list']['count']:,} listed", reads["list"], LIST_MS)
    ]
    for s in reads["search"]:
        figure = f"search {s['query']!r}: {s['what']} ({s['hits']:,} found)"
        out.append(_under_ms(figure, s, SEARCH_MS))
    out.append(_history("the newest built conversation", reads["history"]))
    c = reads["cli_list"]
    out.append(
        _check(f"`durachat list --json` process ({c['count']:,} listed), median of {c['runs']}",
               c["median_s"], f"{c['median_s']:.3f} s", f"< {CLI_LIST_S} s",
               c["median_s"] < CLI_LIST_S)
    )  # fmt: skip
    return out


def kill_checks(r: dict[str, Any]) -> list[Check]:
    k = r["after_worker_kill"]
    first = k["first_list_ms"]
    return [
        _check("list right after SIGKILL of the worker: listed", k["count"],
               f"{k['count']:,} of {k['expected']:,}", "all", k["complete"]),
        _check("list right after SIGKILL of the worker: time", first, _ms(first),
               f"< {LIST_MS} ms", first < LIST_MS),
        _under_ms("list while the worker restarts", k["then"], LIST_MS),
    ]  # fmt: skip


def turn_checks(r: dict[str, Any]) -> list[Check]:
    t = r["long_conversation"]
    e, n = t["edge_turns"], t["turns"]
    diff = t["ttft_difference_ms"]
    flat = diff is not None and abs(diff) <= TTFT_FLAT_MS
    runs = t["runs"]
    biggest = max((run["history_bytes"] for run in runs), default=0)
    late = f"turns {n - e + 1}-{n}"
    return [
        _check(f"time to first token, turns 1-{e}, median", t["ttft_first_ms"],
               _ms(t["ttft_first_ms"]), "(the baseline)", None),
        _check(f"time to first token, {late}, median", t["ttft_last_ms"],
               _ms(t["ttft_last_ms"]), f"within {TTFT_FLAT_MS} ms of turns 1-{e}", flat),
        _check(f"  difference, {late} minus turns 1-{e}", diff,
               "-" if diff is None else f"{diff:+.1f} ms", f"|d| <= {TTFT_FLAT_MS} ms", flat),
        _check(f"largest history of the {len(runs)} workflow runs of that conversation",
               biggest, _mb(biggest), f"each < {_mb(RUN_HISTORY_BYTES)}",
               bool(runs) and biggest < RUN_HISTORY_BYTES),
        _history(f"that {n:,}-turn conversation (now the newest)", t["history"]),
    ]  # fmt: skip


def redis_checks(r: dict[str, Any]) -> list[Check]:
    i = r["redis"]["idle"]
    value = i["extrapolated_idle_used_memory"]
    figure = (
        f"Redis used_memory, {i['extrapolated_idle_conversations']:,} idle conversations "
        f"(EXTRAPOLATED from {i['conversations']} real ones)"
    )
    return [
        _check(figure, value, _mb(value), f"< {_mb(REDIS_IDLE_BYTES)}", value < REDIS_IDLE_BYTES)
    ]


def checks(result: dict[str, Any]) -> list[Check]:
    return read_checks(result) + kill_checks(result) + turn_checks(result) + redis_checks(result)


def _verdict(met: bool | None) -> str:
    return "" if met is None else "met" if met else "MISSED"


def _table(rows: list[Check]) -> list[str]:
    cells = [("figure", "measured", "target", "")] + [
        (c["figure"], c["shown"], c["target"], _verdict(c["met"])) for c in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _context(r: dict[str, Any]) -> list[str]:
    b, s = r["build"], r["backend"]
    turns = b["messages"] // 2
    return [
        f"command: {r['command']}",
        f"machine: {r['machine']}",
        f"data: {b['conversations']:,} conversations, {b['messages']:,} messages ({turns:,} "
        f"turns, {b['tool_calls']:,} tool calls), store {_mb(b['store_bytes'])}",
        f"built in {b['seconds']:.1f} s, of which {b['import_seconds']:.1f} s in the store's "
        "bulk_import (the rest makes the text up)",
        f"backend: {' '.join(s['argv'])} (ready in {s['ready_s']:.2f} s)",
    ]


def _kill_line(r: dict[str, Any]) -> str:
    k = r["after_worker_kill"]
    down = "still down" if k["worker_still_down_after_first_list"] else "already back"
    return (
        f"worker SIGKILLed (pid {k['killed_pid']}): {down} when the first list returned; "
        f"a new worker process seen {k['new_worker_after_s']:.2f} s after the kill (looked for "
        "between lists, which share the CPU with its start-up)"
    )


def _blocks(values: list[float | None], digits: int) -> str:
    return ", ".join("-" if v is None else f"{v:.{digits}f}" for v in values)


def _turn_details(r: dict[str, Any]) -> list[str]:
    t = r["long_conversation"]
    runs, block, e = t["runs"], t["block_turns"], t["edge_turns"]
    sizes = ", ".join(f"{run['history_bytes'] / 1e6:.2f}" for run in runs)
    return [
        f"long conversation: {t['turns']:,} turns through the workflow and the demo model, "
        f"replies of {t['reply_tokens']} tokens ({t['reply_bytes_median']:,.0f} bytes), "
        f"{t['pause_s']:g} s before each prompt; {t['not_done']} turns not done, "
        f"{t['no_text']} without text",
        f"  first token, median per {block} turns (ms): {_blocks(t['ttft_by_block_ms'], 1)}",
        f"  first token, median per {t['early_block_turns']} turns of the first {block} (ms): "
        f"{_blocks(t['ttft_early_by_block_ms'], 1)}",
        *_direct_lines(t),
        f"  send to the end of follow_turn, median per {block} turns (ms): "
        f"{_blocks(t['round_trip_by_block_ms'], 0)}; turns 1-{e}: "
        f"{_ms(t['round_trip_first_ms'])}, last {e}: {_ms(t['round_trip_last_ms'])}",
        f"  workflow runs: {len(runs)}; history MB per run, oldest first: {sizes}",
    ]


def _duration(seconds: float) -> str:
    if seconds < 0:
        return "none" if seconds == -1 else "gone"
    return f"{seconds / 86_400:.1f} days" if seconds >= 86_400 else f"{seconds:.0f} s"


def _direct_lines(t: dict[str, Any]) -> list[str]:
    d, e, n = t["direct"], t["edge_turns"], t["turns"]
    if d is None:
        return []
    diff, ours = d["ttft_difference_ms"], t["ttft_difference_ms"]
    own = "-" if diff is None or ours is None else f"{ours - diff:+.1f} ms"
    return [
        f"  the demo model alone, sent the same inputs directly (the worker's OpenAI client, "
        f"{d['rounds']} rounds): turns 1-{e} {_ms(d['ttft_first_ms'])}, turns {n - e + 1}-{n} "
        f"{_ms(d['ttft_last_ms'])} ({'-' if diff is None else f'{diff:+.1f} ms'}); inputs of "
        f"{d['input_bytes_first']:,} and {d['input_bytes_last']:,} bytes (context budget "
        f"{d['context_budget_tokens']:,} tokens)",
        f"  so the growth of the first token's time that is not the model's: {own}",
    ]


def _key_line(kind: str, k: dict[str, Any]) -> str:
    low, high = _duration(k["ttl_s_min"]), _duration(k["ttl_s_max"])
    ttl = low if low == high else f"{low} to {high}"
    return f"{kind} {k['bytes']:,} B (TTL {ttl}: {'/'.join(k['lifetime'])})"


def _redis_details(r: dict[str, Any]) -> list[str]:
    red, i = r["redis"], r["redis"]["idle"]
    ev = red["long_conversation_keys"]["events"]
    n, many, ttl = i["conversations"], i["extrapolated_idle_conversations"], i["idle_ttl_s"]
    keys = "; ".join(_key_line(kind, k) for kind, k in i["keys"].items())
    return [
        f"Redis used_memory: {_mb(red['at_start'])} at start; "
        f"{_mb(red['after_long_conversation'])} after the long conversation (its stream "
        f"{_mb(ev['bytes'])}, TTL {ev['ttl_s']:g} s); {_mb(i['used_memory_after'])} after "
        f"{n} one-turn conversations",
        f"  each one-turn conversation ({i['reply_tokens']}-token reply), on average over {n}: "
        f"{i['live_bytes_per_conversation']:,} B of used_memory while its stream lives",
        f"  its keys: {keys}",
        f"  left once its stream expired ({ttl} s after its last turn): "
        f"{i['idle_bytes_per_conversation']:,} B, of which "
        f"{i['never_expiring_bytes_per_conversation']:,} B never expire",
        f"  EXTRAPOLATION (not measured with {many:,}): {_mb(red['at_start'])} at start + "
        f"{many:,} x {i['idle_bytes_per_conversation']:,} B = "
        f"{_mb(i['extrapolated_idle_used_memory'])} once every one has been idle {ttl} s; "
        f"{_mb(i['extrapolated_live_used_memory'])} if every one had had a turn in the last "
        f"{ttl} s",
    ]


def _stop_line(stop: dict[str, Any]) -> str:
    left = stop["left_running"]
    named = f" ({'; '.join(left)})" if left else ""
    return (
        f"stop: SIGTERM; durachat serve exited {stop['exit_code']} after "
        f"{stop['seconds']:.2f} s; its processes left running: {len(left)}{named}"
    )


def table(result: dict[str, Any]) -> str:
    kept = f"kept: {result['data_dir']}" if result["kept"] else "removed"
    return "\n".join(
        [
            *_context(result),
            "",
            *_table(result["checks"]),
            "",
            _kill_line(result),
            *_turn_details(result),
            *_redis_details(result),
            _stop_line(result["stop"]),
            f"temporary data dir {kept}; benchmark wall time {result['wall_s']:.0f} s",
        ]
    )
