"""Bad input: odd messages, a damaged settings file, a full or read-only data dir.

Each gives the user one clear message and loses nothing. Messages go through the
client API (what the window uses) and ``durachat send`` (the terminal). The disk
cases are real: a tiny tmpfs in a private mount namespace (``unshare``, no root
needed where user namespaces are allowed) and a data dir the process may not write
(as root, with the capabilities that bypass file permissions dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend.client.api import MAX_MESSAGE_BYTES, DuraChatClient
from backend.client.errors import MessageRejected
from backend.demo_model.script import counted_tokens
from backend.local.settings import Settings
from backend.workflows.conversation_types import ConversationView, HistoryLimits
from tests.support.chat import record_turn, with_client, workflow_runs
from tests.support.serve_process import ServeProcess, child_env, durachat_argv

# Temporal refuses any payload over 2 MiB; this message is over it even as plain bytes.
OVER_PAYLOAD_LIMIT = 2_200_000


def words(n: int) -> str:
    return "".join(counted_tokens(n))


def durachat(
    *args: str | bytes,
    stdin: bytes | None = None,
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI as a user would; bytes in and out, so nothing is re-encoded."""
    return subprocess.run(
        [*durachat_argv(), *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        env=child_env(),
        preexec_fn=preexec_fn,
    )


def one_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """stderr as text, checked to be exactly one line and no traceback."""
    err = result.stderr.decode()
    assert "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.removesuffix("\n")


def history(data_dir: Path, conversation_id: str) -> ConversationView:
    return with_client(data_dir, lambda c: c.history(conversation_id))


def echo_of(text: str) -> str:
    """How the demo model quotes a short prompt back in its natural reply."""
    return f'You said: "{" ".join(text.split())}"'


@pytest.fixture
def settings_file(backend: ServeProcess) -> Iterator[Path]:
    path = backend.data_dir / "settings.json"
    yield path
    Settings().save(path)


@pytest.fixture(scope="module")
def conversation(backend: ServeProcess) -> str:
    """A conversation with one answered turn, for refusals to leave unchanged."""
    rec = with_client(backend.data_dir, lambda c: record_turn(c, "[demo tokens=2]"))
    assert rec.turn.status == "done"
    return rec.conversation_id


# -- messages ----------------------------------------------------------------------------


def test_an_empty_message_is_refused_before_sending(
    backend: ServeProcess, conversation: str, tmp_path: Path
) -> None:
    before = history(backend.data_dir, conversation)

    async def scenario(client: DuraChatClient) -> list[str]:
        refusals = []
        for text in ("", "   ", "\n\t \u3000"):
            with pytest.raises(MessageRejected) as refused:
                await client.send(text, conversation)
            refusals.append(str(refused.value))
        return refusals

    assert with_client(backend.data_dir, scenario) == ["the message is empty"] * 3
    d = ["--data-dir", str(backend.data_dir), "--conversation", conversation]
    nowhere = ["--data-dir", str(tmp_path / "no-backend-yet")]
    for result in (
        durachat("send", *d, ""),
        durachat("send", *d, "-", stdin=b" \n"),
        durachat("send", *nowhere, "\t"),
    ):
        assert result.returncode == 2 and result.stdout == b""
        assert one_line(result) == "durachat: not sent: the message is empty"
    assert history(backend.data_dir, conversation) == before
    assert not (tmp_path / "no-backend-yet").exists()  # no backend was started for it


def test_a_one_megabyte_message_is_answered_and_stored_whole(backend: ServeProcess) -> None:
    # Nothing JSON escapes (a newline is two bytes there): 1 MB as sent is 1 MB as carried.
    line = "Zeile ünïcødé ✓ שלום 👩‍👩‍👧 end. "
    text = (
        (line * (1_000_000 // len(line.encode()) + 1)).encode()[:1_000_000].decode(errors="ignore")
    )
    assert 999_990 < len(text.encode()) <= 1_000_000

    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        rec = await record_turn(client, text)
        after = await record_turn(client, "[demo tokens=3]", rec.conversation_id)
        return rec, after

    rec, after = with_client(backend.data_dir, scenario)
    assert rec.turn.status == "done", rec.turn.error
    assert rec.turn.user_text == text  # every byte of it
    (started,) = rec.of_type("turn_started")
    assert started.text == text  # the live view had it whole too
    collapsed = " ".join(text.split())
    assert f'You said: "{collapsed[:60].rstrip()}…"' in rec.turn.reply
    assert after.turn.status == "done" and after.turn.reply == words(3)
    assert after.view is not None and after.view.turns[0].user_text == text


def test_a_message_over_the_payload_limit_is_refused_before_sending(
    backend: ServeProcess, conversation: str
) -> None:
    before = history(backend.data_dir, conversation)
    text = "y" * OVER_PAYLOAD_LIMIT

    async def scenario(client: DuraChatClient) -> str:
        with pytest.raises(MessageRejected) as refused:
            await client.send(text, conversation)
        return str(refused.value)

    said = with_client(backend.data_dir, scenario)
    assert said.startswith("the message is 2.2 MB; the limit is")
    d = ["--data-dir", str(backend.data_dir), "--conversation", conversation]
    result = durachat("send", *d, "-", stdin=text.encode())
    assert result.returncode == 2 and result.stdout == b""
    assert one_line(result) == f"durachat: not sent: {said}"
    assert history(backend.data_dir, conversation) == before


def test_a_message_that_grows_past_the_limit_when_encoded_is_refused(
    backend: ServeProcess, conversation: str
) -> None:
    """400 KB of control characters is 2.4 MB as JSON (each one becomes ``\\u0001``)."""
    before = history(backend.data_dir, conversation)
    text = "\x01" * 400_000
    d = ["--data-dir", str(backend.data_dir), "--conversation", conversation]
    result = durachat("send", *d, "-", stdin=text.encode())
    assert result.returncode == 2 and result.stdout == b""
    assert one_line(result).startswith("durachat: not sent: the message is ")

    async def scenario(client: DuraChatClient) -> None:
        with pytest.raises(MessageRejected):
            await client.send(text, conversation)

    with_client(backend.data_dir, scenario)
    assert history(backend.data_dir, conversation) == before


def test_messages_up_to_the_limit_keep_the_conversation_usable(backend: ServeProcess) -> None:
    """Every model call and every continue-as-new carries the whole conversation, and
    Temporal refuses any payload over 2 MiB: a message the client accepts must never
    leave its conversation unable to answer the next one."""

    async def scenario(client: DuraChatClient) -> ConversationView:
        client.limits = HistoryLimits(max_events=30)  # continue-as-new every few turns
        first = await record_turn(client, "a" * MAX_MESSAGE_BYTES)
        cid = first.conversation_id
        try:
            assert first.turn.status == "done", first.turn.error
            # Refusing what would not fit is fine; wedging the conversation is not.
            with contextlib.suppress(MessageRejected):
                await client.send("b" * (MAX_MESSAGE_BYTES // 2), cid)
            for n in (1, 2, 3, 4):
                try:
                    turn = record_turn(client, f"[demo tokens={n}]", cid)
                    rec = await asyncio.wait_for(turn, 15)
                except TimeoutError:
                    raise AssertionError(f"message {n} after the big one got no answer") from None
                assert rec.turn.status == "done" and rec.turn.reply == words(n), rec.turn.error
            return await client.history(cid), await workflow_runs(client, cid, at_least=2)
        except BaseException:
            await client.delete(cid)  # a stuck workflow would keep the worker busy
            raise

    view, runs = with_client(backend.data_dir, scenario, timeout=180)
    assert runs > 1  # it did continue as new, carrying the big message
    assert view.turns[0].user_text == "a" * MAX_MESSAGE_BYTES


UNUSUAL = {
    "nul": "before\x00after and \x00\x00 twice",
    "rtl": "שלום עולם · مرحبا بالعالم · 123 abc",
    "bidi controls": "abc \u202eevil\u202c \u2067isolate\u2069 \u200fmark",
    "emoji": "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷 é e\u0301 \U0001f9d1\u200d\U0001f4bb",
}


def test_nul_right_to_left_and_emoji_text_round_trips_exactly(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        cid = None
        recs = []
        for text in UNUSUAL.values():
            rec = await record_turn(client, text, cid)
            cid = rec.conversation_id
            recs.append(rec)
        return recs

    recs = with_client(backend.data_dir, scenario)
    view = recs[-1].view
    assert view is not None
    assert [t.user_text for t in view.turns] == list(UNUSUAL.values())
    for (name, text), rec in zip(UNUSUAL.items(), recs, strict=True):
        assert rec.turn.status == "done", name
        assert echo_of(text) in rec.turn.reply, name  # the model got it exactly too
        assert rec.rebuilt().text == rec.turn.reply, name
        assert rec.of_type("turn_started")[0].text == text, name


def test_the_terminal_sends_unusual_text_exactly_and_refuses_bytes_that_are_not_utf8(
    backend: ServeProcess, conversation: str
) -> None:
    d = ["--data-dir", str(backend.data_dir)]
    # NUL cannot be in an argument: it comes through stdin.
    piped = UNUSUAL["nul"] + " שלום"
    sent = durachat("send", *d, "--json", "-", stdin=piped.encode())
    assert sent.returncode == 0, sent.stderr.decode()
    lines = [json.loads(line) for line in sent.stdout.splitlines()]
    cid = lines[0]["conversation_id"]
    assert echo_of(piped) in lines[-1]["reply"]
    typed = UNUSUAL["emoji"] + " " + UNUSUAL["bidi controls"][:30]
    plain = durachat("send", *d, "--conversation", cid, typed)
    assert plain.returncode == 0, plain.stderr.decode()
    assert echo_of(typed).encode() in plain.stdout  # printed as the bytes it came in as
    stored = json.loads(durachat("history", *d, "--conversation", cid, "--json").stdout)
    assert [t["user_text"] for t in stored["turns"]] == [piped, typed]

    before = history(backend.data_dir, conversation)
    d += ["--conversation", conversation]
    for result in (
        durachat("send", *d, b"caf\xe9 au lait"),  # Latin-1 from a misconfigured terminal
        durachat("send", *d, "-", stdin=b"caf\xe9 au lait"),
    ):
        assert result.returncode == 2
        assert one_line(result) == (
            "durachat: not sent: the message is not valid UTF-8 (byte 0xe9 at character 4); "
            "check the terminal's encoding"
        )
    assert history(backend.data_dir, conversation) == before


# -- the settings file -----------------------------------------------------------------

DAMAGED = {
    "{not json": "not valid JSON",
    '{"request_timeout_s": "soon"}': "request_timeout_s: Input should be a valid number",
    '["demo"]': "it must hold a JSON object of settings",
}


def test_serve_says_what_is_wrong_with_a_damaged_settings_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)  # private, as a data dir must be
    settings = data / "settings.json"
    for content, problem in DAMAGED.items():
        settings.write_text(content)
        result = durachat("serve", "--data-dir", str(data), timeout=60)
        assert result.returncode == 1 and result.stdout == b""
        said = one_line(result)
        assert said.startswith(f"durachat: the settings file {settings} is damaged ({problem}")
        assert said.endswith(
            "; fix it or delete it to start from the defaults (conversations are not affected)"
        )
        assert settings.read_text() == content  # left for the user to fix
    assert not (data / "runtime.json").exists()


def test_settings_damaged_while_running_fail_the_turn_clearly(
    backend: ServeProcess, settings_file: Path
) -> None:
    worker = backend.child_pids()["worker"]

    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        first = await record_turn(client, "[demo tokens=2]")
        cid = first.conversation_id
        failed = []
        for content in DAMAGED:
            settings_file.write_text(content)
            failed.append(await record_turn(client, f"[demo tokens=3] {content}", cid))
        Settings().save(settings_file)  # the user fixes it
        fixed = await record_turn(client, "[demo tokens=4]", cid)
        return failed, fixed

    failed, fixed = with_client(backend.data_dir, scenario)
    for rec, problem in zip(failed, DAMAGED.values(), strict=True):
        assert rec.turn.status == "failed"
        error = rec.turn.error
        assert error is not None and error.kind == "configuration"
        assert error.message.startswith(f"the settings file {settings_file} is damaged")
        assert problem in error.message and "fix it or delete it" in error.message
        assert len(rec.of_type("attempt_started")) <= 1  # not retried: the user must act
    assert fixed.turn.status == "done" and fixed.turn.reply == words(4)
    assert fixed.view is not None
    assert [t.status for t in fixed.view.turns] == ["done", "failed", "failed", "failed", "done"]
    assert [t.user_text for t in fixed.view.turns[1:4]] == [
        f"[demo tokens=3] {content}" for content in DAMAGED
    ]
    assert backend.child_pids()["worker"] == worker  # the worker never crashed


# -- the data dir's disk -----------------------------------------------------------------


def in_private_mounts(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with mounts of its own, where it may mount a tmpfs.

    As root a mount namespace is enough; anyone else gets a user namespace that maps
    them to root inside it (allowed by default on most Linux distributions).
    """
    unshare = shutil.which("unshare")
    assert unshare, "these tests need unshare (util-linux)"
    isolate = ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]
    result = subprocess.run(
        [unshare, *isolate, "sh", "-euc", script],
        capture_output=True,
        text=True,
        timeout=150,
        env=child_env(DURACHAT=" ".join(durachat_argv()), **env),
        start_new_session=True,
    )
    assert "unshare: " not in result.stderr, result.stderr  # the namespace itself failed
    return result


FULL_TMPFS = """
mount -t tmpfs -o size=$SIZE tmpfs "$MNT"
fill() { dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true; }
"""


def test_serve_and_send_on_a_full_disk_say_so(tmp_path: Path) -> None:
    mnt, out = tmp_path / "disk", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    script = (
        FULL_TMPFS
        + """
fill
set +e
$DURACHAT serve --data-dir "$MNT/data" > "$OUT/serve.out" 2> "$OUT/serve.err"
echo $? > "$OUT/serve.rc"
$DURACHAT send --data-dir "$MNT/fresh" hello > "$OUT/send.out" 2> "$OUT/send.err"
echo $? > "$OUT/send.rc"
"""
    )
    done = in_private_mounts(script, MNT=str(mnt), OUT=str(out), SIZE="1m")
    assert done.returncode == 0, done.stderr

    def outcome(name: str) -> tuple[int, str]:
        err = (out / f"{name}.err").read_text()
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert (out / f"{name}.out").read_text() == ""
        return int((out / f"{name}.rc").read_text()), err.strip()

    code, said = outcome("serve")
    assert code == 1
    assert said.startswith(f"durachat: the disk holding {mnt}/data is full (No space left")
    assert said.endswith(
        "free some space, or choose another data dir with --data-dir or $DURACHAT_DATA_DIR"
    )
    code, said = outcome("send")
    assert code == 2
    assert said == (
        f"durachat: not sent: the disk holding {mnt}/fresh is full; free some space, "
        "or choose another data dir with --data-dir or $DURACHAT_DATA_DIR"
    )


def test_a_disk_that_fills_while_running_refuses_messages_and_recovers(tmp_path: Path) -> None:
    mnt, out = tmp_path / "disk", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    script = (
        FULL_TMPFS
        + """
D="$MNT/data"
$DURACHAT serve --data-dir "$D" --demo-tokens-per-second 0 > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true; wait $SERVE || true' EXIT
for _ in $(seq 600); do grep -q '"ready"' "$OUT/serve.out" && break; sleep 0.1; done
$DURACHAT send --data-dir "$D" --json "[demo tokens=3]" > "$OUT/first.out"
CID=$(head -1 "$OUT/first.out" | sed 's/.*"conversation_id": "\\([^"]*\\)".*/\\1/')
fill
set +e
$DURACHAT send --data-dir "$D" --conversation "$CID" "[demo tokens=4]" \
    > "$OUT/full.out" 2> "$OUT/full.err"
echo $? > "$OUT/full.rc"
set -e
rm "$MNT/filler"
$DURACHAT send --data-dir "$D" --conversation "$CID" "[demo tokens=5]" > "$OUT/freed.out"
$DURACHAT history --data-dir "$D" --conversation "$CID" > "$OUT/history.json"
"""
    )
    done = in_private_mounts(script, MNT=str(mnt), OUT=str(out), SIZE="64m")
    assert done.returncode == 0, done.stderr + (out / "serve.err").read_text()

    assert int((out / "full.rc").read_text()) == 2
    assert (out / "full.out").read_text() == ""
    assert (out / "full.err").read_text() == (
        f"durachat: not sent: the disk holding {mnt}/data is full; free some space, "
        "or choose another data dir with --data-dir or $DURACHAT_DATA_DIR\n"
    )
    assert (out / "freed.out").read_text() == words(5) + "\n"
    view = json.loads((out / "history.json").read_text())
    assert [(t["user_text"], t["reply"]) for t in view["turns"]] == [
        ("[demo tokens=3]", words(3)),
        ("[demo tokens=5]", words(5)),
    ]
    assert "Traceback" not in (out / "serve.err").read_text()


def test_a_log_on_a_full_disk_says_so_once_and_resumes(tmp_path: Path) -> None:
    mnt, out = tmp_path / "disk", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    script = (
        FULL_TMPFS
        + """
fill
"$PYTHON" - <<'EOF'
import logging, os
from pathlib import Path
from backend.local.logs import rotating_handler
mnt = Path(os.environ["MNT"])
log = logging.Logger("t")
log.addHandler(rotating_handler(mnt / "x.log"))
for i in range(50):
    log.warning("while full %d", i)
(mnt / "filler").unlink()
log.warning("after space was freed")
print((mnt / "x.log").read_text().count("after space was freed"))
EOF
"""
    )
    done = in_private_mounts(script, MNT=str(mnt), OUT=str(out), SIZE="256k", PYTHON=sys.executable)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"durachat: cannot write the log {mnt}/x.log (No space left on device); "
        "log lines are dropped until it can\n"
    )
    assert done.stdout == "1\n"


def drop_root_file_powers() -> None:
    """preexec_fn: a root child that file permissions apply to, like any user's.

    Drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the bounding set;
    at exec, root's capabilities become that set.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for cap in (1, 2, 3):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_data_dir_without_write_permission_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o500)
    as_user = drop_root_file_powers if os.geteuid() == 0 else None
    expected = (
        f"durachat: cannot write to the data dir {data} (Permission denied: {data}); "
        "make it writable, or choose another with --data-dir or $DURACHAT_DATA_DIR"
    )
    try:
        for args in (["serve"], ["send", "hello"]):
            result = durachat(*args, "--data-dir", str(data), preexec_fn=as_user, timeout=60)
            assert result.returncode == 1, args
            assert one_line(result) == expected, args
    finally:
        data.chmod(0o700)
    assert list(data.iterdir()) == []
