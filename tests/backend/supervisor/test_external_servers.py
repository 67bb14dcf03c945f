"""``serve --temporal-address/--redis-url``: use servers that already run."""

from __future__ import annotations

from pathlib import Path

from tests.support.backend_checks import assert_backend_works
from tests.support.serve_process import ServeProcess


def test_serve_uses_existing_servers(serve: ServeProcess, tmp_path: Path) -> None:
    first = serve.start()
    runtime = serve.runtime()
    redis_url = f"unix://{runtime['redis_socket']}?password={runtime['redis_password']}&db=1"

    second = ServeProcess(
        tmp_path / "second",
        args=["--temporal-address", first["temporal"], "--redis-url", redis_url],
    )
    try:
        ready = second.start()
        assert ready["temporal"] == first["temporal"]
        assert ready["redis"] == first["redis"]
        # Only a worker and a demo model of its own: the servers belong to the first backend.
        assert set(second.runtime()["children"]) == {"worker", "demo-model"}
        assert_backend_works(second)
        assert second.terminate() == 0
    finally:
        second.close()
    # Stopping the second left the first one's servers running.
    assert_backend_works(serve)


def test_unreachable_external_server_is_a_clear_error(tmp_path: Path) -> None:
    sp = ServeProcess(tmp_path / "d", args=["--temporal-address", "127.0.0.1:1"])
    try:
        sp.start(timeout=60)
        raise AssertionError("serve reported ready with an unreachable Temporal")
    except AssertionError as exc:
        message = str(exc)
    finally:
        sp.close()
    assert "exited 1 before ready" in message
    assert "the Temporal server you named is not reachable" in message
    assert "Traceback" not in message
