"""A key goes only where it belongs, with real processes: ``durachat serve``, its worker,
``durachat send``, and HTTP servers of the test's own that record what reaches them.

Found on the old code: a ``serve --provider openai`` after a ``serve --provider
openai-compatible --base-url http://...`` kept that base URL and sent the OpenAI key to
it; and a second ``serve`` that exited 3 (data dir busy) still rewrote the running
backend's settings.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.file_keyring import ENV as KEYRING_FILE_ENV
from tests.support.serve_process import ServeProcess, child_env, durachat_argv


@dataclass
class Recorder:
    """Every request an HTTP server received, as raw text (request line, headers, body)."""

    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, text: str) -> None:
        with self.lock:
            self.requests.append(text)

    def seen(self) -> list[str]:
        with self.lock:
            return list(self.requests)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record_and_refuse(self, status: int) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            recorder.add(f"{self.requestline}\n{self.headers}\n{body}")
            payload = json.dumps({"error": {"message": "refused by the test", "type": "x"}})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload.encode())

        # The capture server: a 401 fails the model call at once (it is not retried).
        def do_GET(self) -> None:
            self._record_and_refuse(401)

        def do_POST(self) -> None:
            self._record_and_refuse(401)

        # As a proxy: a CONNECT says which host a client meant to reach over TLS; the
        # 403 keeps the test off the internet.
        def do_CONNECT(self) -> None:
            self._record_and_refuse(403)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def recording_server() -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def send(data_dir: Path, text: str, env: dict[str, str]) -> dict:
    """``durachat send --json``; its final ``result`` line."""
    done = subprocess.run(
        [*durachat_argv(), "send", "--data-dir", str(data_dir), "--json", text],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    results = [line for line in lines if line.get("type") == "result"]
    assert results, f"send exited {done.returncode} without a result:\n{done.stderr}"
    return results[-1]


def process_env(keyring_file: Path, proxy_port: int, **extra: str) -> dict[str, str]:
    """One keyring for every process of the test (a file, like a real keyring outside
    the data dir); outside traffic (api.openai.com) through the test's refusing proxy,
    this machine's own (Temporal, Redis, the capture server) directly."""
    proxy = f"http://127.0.0.1:{proxy_port}"
    local = "127.0.0.1,localhost,::1"
    return child_env(
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        **{KEYRING_FILE_ENV: str(keyring_file)},
        # With the keyring, the config dir that records where the encryption key lives.
        XDG_CONFIG_HOME=str(keyring_file.parent / "config"),
        HTTPS_PROXY=proxy,
        https_proxy=proxy,
        NO_PROXY=local,
        no_proxy=local,
        **extra,
    )


def test_switching_to_openai_never_sends_the_key_to_the_old_base_url(tmp_path: Path) -> None:
    key = f"sk-test-{secrets.token_hex(16)}"
    data_dir = tmp_path / "data"
    settings_file = data_dir / "settings.json"
    with recording_server() as (capture_port, capture), recording_server() as (proxy_port, proxy):
        base_url = f"http://127.0.0.1:{capture_port}/v1"
        env = process_env(tmp_path / "os-keyring.json", proxy_port)
        keyed_env = {**env, "OPENAI_API_KEY": key}
        first = ServeProcess(
            data_dir,
            args=["--provider", "openai-compatible", "--base-url", base_url],
            env=keyed_env,
        )
        try:
            first.start()
            # The capture server is the model here: the call reaches it, without the
            # OpenAI key (meant for OpenAI only), and fails on its 401.
            assert send(data_dir, "hello", env)["status"] == "failed"
            assert capture.seen(), "the capture server was never called"
            assert first.terminate() == 0
        finally:
            first.close()
        called_before = len(capture.seen())

        second = ServeProcess(data_dir, args=["--provider", "openai"], env=keyed_env)
        try:
            second.start()
            # The call goes to api.openai.com (over TLS, so the proxy sees only CONNECT)
            # and fails on the proxy's refusal; it never reaches the capture server.
            assert send(data_dir, "hello again", env)["status"] == "failed"
            assert second.terminate() == 0
        finally:
            second.close()

        reached_capture = capture.seen()
        proxied = proxy.seen()
    assert not [r for r in reached_capture if key in r]
    assert len(reached_capture) == called_before  # nothing at all after the switch
    assert proxied and all(r.startswith("CONNECT api.openai.com:443 ") for r in proxied)
    assert not [r for r in proxied if key in r]
    # Nothing of the other provider's is left in the settings (and never a key).
    saved = json.loads(settings_file.read_text())
    assert (saved["provider"], saved["base_url"], saved["model"]) == ("openai", None, None)
    assert key not in settings_file.read_text()


def test_a_second_serve_that_finds_the_data_dir_busy_leaves_settings_untouched(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    settings_file = data_dir / "settings.json"
    running = ServeProcess(data_dir, args=["--provider", "demo", "--model", "durachat-demo"])
    try:
        running.start()
        before = settings_file.read_bytes()
        assert json.loads(before)["provider"] == "demo"
        for extra in (
            ["--provider", "openai-compatible", "--base-url", "http://x"],
            ["--provider", "openai"],
            ["--model", "other"],
        ):
            second = subprocess.run(
                [*durachat_argv(), "serve", "--data-dir", str(data_dir), *extra],
                capture_output=True,
                text=True,
                timeout=60,
                env=child_env(),
                stdin=subprocess.DEVNULL,
            )
            assert second.returncode == 3, second.stderr
            assert second.stdout == ""
            assert second.stderr.count("\n") == 1, second.stderr
            assert second.stderr.startswith(f"durachat: DuraChat is already running on {data_dir}")
            assert settings_file.read_bytes() == before, extra
        assert running.proc is not None and running.proc.poll() is None
        assert running.terminate() == 0
    finally:
        running.close()
