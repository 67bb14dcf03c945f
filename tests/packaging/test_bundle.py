"""The bundle and the Debian package, built by ``packaging/build`` as a release is, and the
bundle run the way a user without Python runs it: a scrubbed environment, no venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from backend import __version__
from tests.support.serve_process import ServeProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = REPO_ROOT / "dist" / "durachat"
EXECUTABLE = BUNDLE / "durachat"
# A value of the user's own: the bundle's library path must never replace it in a child.
USER_LIBRARY_PATH = "/opt/user-libraries"

# Building takes a minute or two on two cores; the runs after it take seconds.
pytestmark = pytest.mark.timeout(900)


@dataclass(frozen=True)
class Built:
    executable: Path
    deb: Path


def _architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def built() -> Built:
    # Built with this interpreter's environment: the one the suite was installed into.
    result = subprocess.run(
        [str(REPO_ROOT / "packaging" / "build")],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    deb = REPO_ROOT / "dist" / f"durachat_{__version__}_{_architecture()}.deb"
    return Built(EXECUTABLE, deb)


def scrubbed_env(home: Path) -> dict[str, str]:
    """What a desktop user's shell might hand over, and nothing of the test run's: no
    virtual environment, no PYTHONPATH, no test keyring, no Python on PATH."""
    path = str(home / "bin")
    return {"HOME": str(home), "PATH": path, "LD_LIBRARY_PATH": USER_LIBRARY_PATH}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose ``bin`` has what /usr/bin and /bin have, except any Python."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    bin_dir = home / "bin"
    bin_dir.mkdir()
    for system_dir in (Path("/usr/bin"), Path("/bin")):
        for program in system_dir.iterdir():
            target = bin_dir / program.name
            if not program.name.startswith("python") and not target.exists():
                target.symlink_to(program)
    assert shutil.which("python3", path=str(bin_dir)) is None
    assert shutil.which("sh", path=str(bin_dir)) is not None
    return home


def run(built: Built, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(built.executable), *args],
        env=scrubbed_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def serving(built: Built, home: Path) -> Iterator[ServeProcess]:
    serve = ServeProcess(
        home / "data", env=scrubbed_env(home), command=[str(built.executable)], cwd=home
    )
    serve.start(timeout=120)
    yield serve
    serve.close()


def test_the_bundle_says_its_version(built: Built, home: Path) -> None:
    result = run(built, home, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"durachat {__version__}"


def test_the_bundle_serves_and_replies_with_nothing_of_the_machine(
    built: Built, home: Path, serving: ServeProcess
) -> None:
    assert serving.ready is not None
    supervisor = psutil.Process(serving.ready["pid"])
    assert supervisor.pid == serving.pid
    children = supervisor.children(recursive=True)
    names = sorted(Path(c.exe()).name for c in children)
    assert names == ["durachat", "durachat", "redis-server", "temporal"], names
    for child in children:  # the worker, the demo model, Temporal and Redis: all its own
        assert Path(child.exe()).is_relative_to(BUNDLE), child.exe()
        library_path = child.environ().get("LD_LIBRARY_PATH")
        assert library_path in (None, USER_LIBRARY_PATH), (child.exe(), library_path)

    reply = run(built, home, "send", "--data-dir", str(home / "data"), "hello from the bundle")
    assert reply.returncode == 0, reply.stderr
    assert 'You said: "hello from the bundle"' in reply.stdout

    assert serving.terminate(60) == 0, serving.stderr()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.pid for p in alive]


def test_the_debian_package_installs_the_bundle_the_command_and_the_menu_entry(
    built: Built,
) -> None:
    def field(name: str) -> str:
        return subprocess.run(
            ["dpkg-deb", "--field", str(built.deb), name], capture_output=True, text=True
        ).stdout.strip()

    assert field("Package") == "durachat"
    assert field("Version") == __version__
    assert "libxcb-cursor0" in field("Depends")
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(built.deb)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    entries = {line.split()[5]: line for line in listing}
    assert "./opt/durachat/durachat" in entries
    assert "./opt/durachat/_internal/bin/temporal" in entries
    assert "./opt/durachat/_internal/bin/redis-server" in entries
    assert entries["./usr/bin/durachat"].endswith("-> /opt/durachat/durachat")
    assert "./usr/share/applications/durachat.desktop" in entries
    assert "./usr/share/icons/hicolor/256x256/apps/durachat.png" in entries
    assert all(" root/root " in line for line in listing)
    # Nothing under the user's home: removing the package cannot touch their data.
    assert not [name for name in entries if name.startswith(("./home", "./root"))]
