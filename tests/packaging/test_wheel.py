"""``pip install .`` (not editable) from a copy of the checkout: the installed DuraChat
runs from its own site-packages, with its icons and its demo model."""

from __future__ import annotations

import json
import selectors
import shutil
import signal
import subprocess
import venv
from pathlib import Path

import pytest

from backend import __version__

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a checkout holds that is not DuraChat's source.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "dist", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"
)

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a new virtual environment DuraChat was pip-installed into."""
    root = tmp_path_factory.mktemp("wheel")
    checkout = root / "checkout"
    shutil.copytree(REPO_ROOT, checkout, ignore=NOT_SOURCE)
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    result = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(checkout)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.rmtree(checkout)  # nothing may come from the source tree any more
    return bin_dir


def _env(home: Path) -> dict[str, str]:
    # No test keyring: the installed package cannot import the tests' one.
    return {"HOME": str(home), "PATH": "/usr/bin:/bin"}


def test_the_installed_command_says_its_version_and_finds_its_icons(
    installed: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(installed / "durachat"), "--version"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
    )
    assert result.stdout.strip() == f"durachat {__version__}", result.stderr
    probe = (
        "import resources, pathlib; "
        "print(resources.icon_path().is_file(), "
        "len(list((pathlib.Path(resources.HERE) / 'icons').glob('*.svg'))), resources.HERE)"
    )
    found = subprocess.run(
        [str(installed / "python"), "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env=_env(tmp_path),
        cwd=tmp_path,  # not the repository, whose resources would shadow the installed ones
    ).stdout.split()
    assert found[:2] == ["True", str(len(list((REPO_ROOT / "resources/icons").glob("*.svg"))))]
    assert Path(found[2]).is_relative_to(installed.parent), found[2]


def test_the_installed_backend_replies_with_the_demo_model(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    data = home / "data"
    serve = subprocess.Popen(
        [str(installed / "durachat"), "serve", "--data-dir", str(data)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(serve.stdout, selectors.EVENT_READ)
            assert sel.select(120), "serve printed nothing within 120 s"
        ready = json.loads(serve.stdout.readline())
        assert ready["event"] == "ready"
        reply = subprocess.run(
            [str(installed / "durachat"), "send", "--data-dir", str(data), "hello, wheel"],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert reply.returncode == 0, reply.stderr
        assert 'You said: "hello, wheel"' in reply.stdout
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(30)
