"""No one else on the machine, and no web page, gets in through the local servers.

Real processes throughout: a real ``durachat serve`` (Temporal dev server, Redis,
worker, demo model), or a real child process for the port owner check.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from backend.local.paths import MARKER_NAME, DataDir
from backend.local.runtime_info import RuntimeInfo
from backend.supervisor import supervisor as supervisor_module
from backend.supervisor.binaries import find_redis_server
from backend.supervisor.child import ChildFailed, ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK, free_port, free_ports
from backend.supervisor.redis_server import MAX_SOCKET_PATH_BYTES
from backend.supervisor.redis_target import RedisTarget
from backend.supervisor.supervisor import BackendFailed, Supervisor, SupervisorOptions
from backend.temporal_connect import NAMESPACE, TASK_QUEUE, connect
from backend.workflows.health import HealthWorkflow
from tests.support.serve_process import ServeProcess, child_env, durachat_argv

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; Linux's rules for shared ports"
)

EVIL_ORIGIN = "http://evil.example"
REBOUND_HOST = "rebind.evil.example"


def _listening_ports(pid: int) -> set[int]:
    return {
        c.laddr.port
        for c in psutil.Process(pid).net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    }


def _http(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, str] | None:
    """The status and body a listener gives, or None when it does not speak HTTP/1.1
    (the gRPC ports hang up)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _browser_post(port: int, path: str, body: str) -> tuple[int, str] | None:
    # What a page on another site can send without a CORS preflight: a "simple"
    # request, text/plain, its own Origin, and the Host of the URL it targets.
    headers = {
        "Content-Type": "text/plain;charset=UTF-8",
        "Origin": EVIL_ORIGIN,
        "Host": f"{LOOPBACK}:{port}",
    }
    return _http(port, "POST", path, headers, body)


def _rebound_get(port: int, path: str) -> tuple[int, str] | None:
    # After DNS rebinding the page's own name points at 127.0.0.1: the browser
    # sends that name as the Host, and may read the answer.
    return _http(port, "GET", path, {"Host": f"{REBOUND_HOST}:{port}", "Origin": EVIL_ORIGIN})


def _accepted(answer: tuple[int, str] | None) -> bool:
    return answer is not None and 200 <= answer[0] < 300


def test_browser_shaped_requests_to_temporal_change_nothing(serve: ServeProcess) -> None:
    ready = serve.start()
    grpc_port = int(ready["temporal"].rsplit(":", 1)[1])
    workflow_id = f"held-{time.time_ns()}"

    async def begin() -> str:
        client = await connect(ready["temporal"])
        await client.start_workflow(HealthWorkflow.run, True, id=workflow_id, task_queue=TASK_QUEUE)
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=NAMESPACE)
        )
        return described.namespace_info.description

    description = asyncio.run(begin())
    # Every port Temporal listens on but gRPC: the HTTP API, metrics, its internal services.
    ports = _listening_ports(serve.child_pids()["temporal"]) - {grpc_port}
    assert ports

    signal_path = f"/api/v1/namespaces/{NAMESPACE}/workflows/{workflow_id}/signal/ping"
    update_path = f"/api/v1/namespaces/{NAMESPACE}/update"
    read_path = f"/api/v1/namespaces/{NAMESPACE}/workflows/{workflow_id}"
    refused_by_host = []
    for port in sorted(ports):
        signalled = _browser_post(port, signal_path, "{}")
        updated = _browser_post(port, update_path, json.dumps({"updateInfo": {"description": "x"}}))
        read = _rebound_get(port, read_path)
        for what, answer in (("signal", signalled), ("update", updated), ("read", read)):
            assert not _accepted(answer), f"port {port} accepted the {what}: {answer}"
        refused_by_host += [port for a in (signalled, updated, read) if a and a[0] == 403]
        # The metrics listener answers anyone, but with counters, never a workflow's id.
        metrics = _rebound_get(port, "/metrics")
        assert metrics is None or workflow_id not in metrics[1]
    # The requests did reach the HTTP API, which refused them for their Host.
    assert refused_by_host

    async def state() -> tuple[int, str]:
        client = await connect(ready["temporal"])
        pings = await client.get_workflow_handle(workflow_id).query(HealthWorkflow.pings)
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=NAMESPACE)
        )
        return pings, described.namespace_info.description

    assert asyncio.run(state()) == (0, description)


def test_the_web_ui_answers_the_users_tab_and_no_rebound_page(
    data_dir: Path,
) -> None:
    sp = ServeProcess(data_dir, args=["--ui"])
    try:
        ready = sp.start()
        ui = ready["temporal_ui"]
        assert ui is not None and ui.startswith(f"http://{LOOPBACK}:")
        port = int(ui.rsplit(":", 1)[1])
        own = _http(port, "GET", "/", {"Host": f"{LOOPBACK}:{port}"})
        assert own is not None and own[0] == 200 and "<html" in own[1].lower()
        local = _http(port, "GET", "/", {"Host": f"localhost:{port}"})
        assert local is not None and local[0] == 200
        rebound = _rebound_get(port, "/")
        assert rebound is not None and rebound[0] == 421, rebound
        # A page on another site that targets 127.0.0.1 itself gets past the guard, and
        # is stopped by the UI's own CSRF check.
        assert not _accepted(_browser_post(port, "/api/v1/namespaces/default/workflows", "{}"))
        # The UI's own port is not the one handed out: only the guard reaches it.
        assert port not in _listening_ports(sp.child_pids()["temporal"])
    finally:
        sp.close()


def test_redis_listens_on_a_socket_in_the_data_dir_only(
    serve: ServeProcess, data_dir: Path
) -> None:
    ready = serve.start()
    redis_pid = serve.child_pids()["redis"]

    assert _listening_ports(redis_pid) == set()
    sock = Path(ready["redis"])
    assert sock.parent.parent == data_dir
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o700
    for d in (data_dir, sock.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    runtime = serve.runtime()
    assert runtime["redis_host"] is None and runtime["redis_port"] is None
    with redis.Redis(unix_socket_path=str(sock), password=runtime["redis_password"]) as r:
        assert r.ping()


def test_a_data_dir_too_deep_for_a_socket_gets_loopback_tcp_with_a_password(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * max(1, MAX_SOCKET_PATH_BYTES - len(str(tmp_path))))
    sp = ServeProcess(deep)
    try:
        ready = sp.start()
        assert ready["redis"].startswith(f"{LOOPBACK}:")
        port = int(ready["redis"].rsplit(":", 1)[1])
        assert port in _listening_ports(sp.child_pids()["redis"])
        with (
            redis.Redis(host=LOOPBACK, port=port) as anonymous,
            pytest.raises(redis.AuthenticationError),
        ):
            anonymous.ping()
        log = (deep / "logs" / "supervisor.log").read_text()
        assert "Redis listens on loopback TCP" in log and "over the limit" in log
    finally:
        sp.close()


# -- who listens on a child's port --------------------------------------------------


@contextlib.contextmanager
def _squatter(host: str, port: int) -> Iterator[subprocess.Popen[str]]:
    """Another process listening on ``host``:``port``."""
    family = "AF_INET6" if ":" in host else "AF_INET"
    code = (
        "import socket, sys, time\n"
        f"s = socket.socket(socket.{family})\n"
        f"s.bind(({host!r}, {port}))\n"
        "s.listen()\n"
        "print('listening', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdout.readline().strip() == "listening"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _listener_spec(port: int) -> ChildSpec:
    code = (
        "import socket, time\n"
        "s = socket.socket()\n"
        f"s.bind(({LOOPBACK!r}, {port}))\n"
        "s.listen()\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )

    async def probe(child: ChildProcess) -> None:
        await child.wait_for_line(lambda line: line == "ready")

    return ChildSpec(
        name="listener",
        argv=[sys.executable, "-c", code],
        probe=probe,
        ready_timeout=20,
        ports=(port,),
    )


async def _start_and_stop(spec: ChildSpec, log_dir: Path) -> None:
    child = ChildProcess(spec, log_dir)
    try:
        await child.start()
    finally:
        await child.stop()


@pytest.mark.parametrize("squat_on", ["::1", LOOPBACK])
def test_a_port_held_by_another_process_fails_the_childs_start(
    tmp_path: Path, squat_on: str
) -> None:
    port = free_port()
    # On ::1 the child still binds 127.0.0.1 and serves; on 127.0.0.1 it cannot bind.
    with _squatter(squat_on, port) as squatter, pytest.raises(ChildFailed) as failed:
        asyncio.run(asyncio.wait_for(_start_and_stop(_listener_spec(port), tmp_path), 30))
    message = str(failed.value)
    assert "\n" not in message
    assert f"port {port}" in message
    assert f"pid {squatter.pid}" in message
    # Without the squatter the same child starts.
    asyncio.run(asyncio.wait_for(_start_and_stop(_listener_spec(port), tmp_path), 30))


def test_the_supervisor_refuses_a_squatted_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ports the supervisor chooses are taken on ::1 by someone else: the first
    child that serves on one fails the start, naming its port."""
    held: dict[int, socket.socket] = {}

    def squatted_ports(count: int, host: str = LOOPBACK) -> list[int]:
        ports = free_ports(count, host)
        for port in ports:
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::1", port))
            s.listen()
            held[port] = s
        return ports

    monkeypatch.setattr(supervisor_module, "free_ports", squatted_ports)
    sup = Supervisor(SupervisorOptions(DataDir(tmp_path / "data")))
    umask = os.umask(0o022)
    try:
        with pytest.raises(BackendFailed) as failed:
            asyncio.run(asyncio.wait_for(sup.start(), 120))
    finally:
        os.umask(umask)  # the supervisor sets its process's umask
        for s in held.values():
            s.close()
    message = str(failed.value)
    assert any(f"port {port} (::1) is taken by another program" in message for port in held)
    assert not any(c.process and c.process.returncode is None for c in sup.children.values())


# -- the data dir ---------------------------------------------------------------------


def _durachat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*durachat_argv(), *args], capture_output=True, text=True, timeout=120, env=child_env()
    )


@pytest.mark.parametrize(
    ("mode", "said"),
    [(0o755, "is readable by others (mode 755)"), (0o1777, "is shared with other users")],
)
def test_a_foreign_data_dir_is_refused_not_chmodded(tmp_path: Path, mode: int, said: str) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    foreign.chmod(mode)

    doctor = _durachat("doctor", "--data-dir", str(foreign))
    assert doctor.returncode == 1
    assert f"FAIL  data dir: the data dir {foreign} {said}" in doctor.stdout

    serve = _durachat("serve", "--data-dir", str(foreign))
    assert serve.returncode == 1
    assert serve.stderr.startswith(f"durachat: the data dir {foreign} {said}")
    assert len(serve.stderr.strip().splitlines()) == 1, serve.stderr

    assert stat.S_IMODE(foreign.stat().st_mode) == mode
    assert list(foreign.iterdir()) == []


def test_only_a_data_dir_durachat_made_is_tightened(tmp_path: Path) -> None:
    made = DataDir(tmp_path / "made").ensure()
    assert (made.root / MARKER_NAME).is_file()
    made.root.chmod(0o755)
    made.ensure()
    assert stat.S_IMODE(made.root.stat().st_mode) == 0o700

    # A private dir of the user's own, made by hand, is taken as it is.
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    DataDir(own).ensure()
    assert stat.S_IMODE(own.stat().st_mode) == 0o700
    assert (own / MARKER_NAME).is_file()


def test_files_in_the_data_dir_are_private(serve: ServeProcess, data_dir: Path) -> None:
    umask = os.umask(0o022)  # the usual umask, whatever this test run's is
    try:
        serve.start()
    finally:
        os.umask(umask)

    def loose_files() -> list[str]:
        return [
            f"{p.relative_to(data_dir)} {stat.S_IMODE(p.stat().st_mode):o}"
            for p in data_dir.rglob("*")
            if p.is_file() and p.stat().st_mode & 0o077
        ]

    running = {p.name for p in data_dir.rglob("*") if p.is_file()}
    assert {"temporal.db", "temporal.db-wal", "supervisor.log", "temporal.log"} <= running
    assert any(name.startswith("appendonly") for name in running), running
    assert loose_files() == []
    assert serve.terminate() == 0
    assert loose_files() == []


def test_only_the_worker_gets_the_api_keys(data_dir: Path) -> None:
    keys = {"DURACHAT_API_KEY": "sk-durachat-test", "OPENAI_API_KEY": "sk-openai-test"}
    sp = ServeProcess(data_dir, env=child_env(**keys))
    try:
        sp.start()
        children = sp.child_pids()
        for name, pid in children.items():
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            held = {k for k in keys if f"{k}={keys[k]}".encode() in environ}
            assert held == (set(keys) if name == "worker" else set()), name
        assert set(children) == {"temporal", "redis", "worker", "demo-model"}
    finally:
        sp.close()


# -- Redis: which binary, which address -----------------------------------------------


@pytest.mark.parametrize(("on_path", "chosen"), [("7.2.4", "path"), ("6.0.9", "bundled")])
def test_redis_server_on_path_only_when_newer_than_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_path: str, chosen: str
) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text(f"#!/bin/sh\necho 'Redis server v={on_path} sha=00000000:0 bits=64'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    found = find_redis_server()
    assert (found == fake) == (chosen == "path"), found


@pytest.mark.parametrize(
    "info",
    [
        {"redis_socket": "/run/user/1000/a b?#.sock", "redis_password": "p/w?&=", "redis_db": 2},
        {"redis_host": LOOPBACK, "redis_port": 6380, "redis_password": "p@ss:/", "redis_db": 1},
    ],
)
def test_runtime_info_redis_url_round_trips(info: dict[str, object]) -> None:
    runtime = RuntimeInfo(
        supervisor_pid=1, data_dir="/d", temporal="127.0.0.1:1", log_dir="/d/logs", **info
    )
    target = RedisTarget.from_url(runtime.redis_url())
    assert (target.socket, target.host, target.port, target.password, target.db) == (
        info.get("redis_socket"),
        info.get("redis_host"),
        info.get("redis_port"),
        info["redis_password"],
        info["redis_db"],
    )
    assert runtime.redis == (info.get("redis_socket") or f"{LOOPBACK}:6380")
