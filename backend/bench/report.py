"""The benchmark's figures as a plain-text table, each path with its ratio to direct."""

from __future__ import annotations

from typing import Any

_PATHS = ("direct", "durachat", "workflow_streams")
_ROWS: list[tuple[str, str, str]] = [
    # (label, figure, key within it)
    ("time to first token, p50 (ms)", "ttft_ms", "p50"),
    ("time to first token, p90 (ms)", "ttft_ms", "p90"),
    ("time to first token, p99 (ms)", "ttft_ms", "p99"),
    ("full reply, p50 (ms)", "full_reply_ms", "p50"),
    ("time to first token at 50 tok/s, p50 (ms)", "ttft_paced_ms", "p50"),
    ("model chunk to subscriber at 50 tok/s, p50 (ms)", "chunk_to_subscriber_ms", "p50"),
    ("model chunk to subscriber at 50 tok/s, p99 (ms)", "chunk_to_subscriber_ms", "p99"),
    ("model chunk to subscriber unpaced, p99 (ms)", "chunk_to_subscriber_unpaced_ms", "p99"),
    ("tokens per second carried", "tokens_per_s", ""),
    ("tokens lost / duplicated", "lost", ""),
    ("worker CPU s per 1,000 tokens", "worker_cpu_s_per_1k_tokens", ""),
    ("Temporal server CPU s per 1,000 tokens", "temporal_cpu_s_per_1k_tokens", ""),
]
_RATIO_ROWS = {"ttft_ms", "full_reply_ms", "ttft_paced_ms"}


def _value(path: dict[str, Any], figure: str, key: str) -> float | str | None:
    if figure == "lost":
        return f"{path['lost']} / {path['duplicated']}"
    value = path.get(figure)
    if isinstance(value, dict):
        return value.get(key)
    return value


def _cell(value: float | str | None, direct: float | str | None, ratio: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,.4f}".rstrip("0").rstrip(".") if value < 1 else f"{value:,.1f}"
    if ratio and isinstance(direct, float | int) and direct > 0:
        text += f" ({value / direct:.1f}x)"
    return text


def table(result: dict[str, Any]) -> str:
    paths = result["paths"]
    names = [p for p in _PATHS if p in paths]
    header = ["", *names]
    rows = [header]
    for label, figure, key in _ROWS:
        direct = _value(paths["direct"], figure, key) if "direct" in paths else None
        rows.append(
            [label]
            + [
                _cell(
                    _value(paths[n], figure, key), direct, figure in _RATIO_ROWS and n != "direct"
                )
                for n in names
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> str:
    opts = result["options"]
    memory = ", ".join(f"{name} {mb:g}" for name, mb in result["resident_memory_mb"].items())
    return "\n".join(
        [
            f"machine: {result['machine']}",
            f"{opts['runs']} rounds; replies of {opts['tokens']} tokens unpaced, "
            f"{opts['paced_tokens']} at {opts['paced_tokens_per_s']} tok/s, "
            f"{opts['stream_tokens']} for throughput; {opts['pause_s']:g} s before each "
            "prompt; ratios are to direct",
            "",
            table(result),
            "",
            f"cold start (durachat serve to ready): {result['cold_start_s']} s",
            f"resident memory (MB): {memory}",
        ]
    )
