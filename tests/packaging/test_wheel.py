"""``pip install .`` (not editable) from a copy of the checkout: the installed DuraChat
runs from its own site-packages, with its icons and its demo model."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import psutil
import pytest

from backend import __version__
from tests.support.serve_process import ServeProcess

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
    # cwd: the children run "python -m backend...", which would import the checkout's
    # modules from the current directory.
    serve = ServeProcess(data, env=_env(home), command=[str(installed / "durachat")], cwd=home)
    try:
        serve.start(timeout=120)
        reply = subprocess.run(
            [str(installed / "durachat"), "send", "--data-dir", str(data), "hello, wheel"],
            env=_env(home),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert reply.returncode == 0, reply.stderr
        assert 'You said: "hello, wheel"' in reply.stdout
        # Every part of the backend ran from the installed copy.
        children = psutil.Process(serve.pid).children(recursive=True)
        for child in children:
            assert Path(child.cmdline()[0]).is_relative_to(installed.parent), child.cmdline()
        assert serve.terminate(60) == 0, serve.stderr()
    finally:
        serve.close()
