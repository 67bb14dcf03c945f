"""Running from the self-contained bundle (PyInstaller) rather than a Python install.

In the bundle there is no ``python`` to run ``-m backend.worker`` with: the one
executable starts the other parts of DuraChat as its own subcommands, and carries
the ``temporal`` and ``redis-server`` binaries in ``bin/`` beside its libraries.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The bootloader points the dynamic loader at the bundle's own libraries and keeps
# the user's value here (PyInstaller's documented convention).
_LIBRARY_PATH = "LD_LIBRARY_PATH"
_LIBRARY_PATH_ORIG = "LD_LIBRARY_PATH_ORIG"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundled_binary(name: str) -> Path:
    """A binary the bundle carries, in ``bin/`` of its ``_internal`` folder (frozen only)."""
    return Path(sys._MEIPASS) / "bin" / name  # type: ignore[attr-defined]


def own_command(subcommand: str, module: str) -> list[str]:
    """The command line that starts another part of DuraChat as a child process."""
    if is_frozen():
        return [sys.executable, subcommand]
    return [sys.executable, "-m", module]


def restore_library_path() -> None:
    """Give the user's ``LD_LIBRARY_PATH`` back to every program this process starts.

    The bundle's libraries (OpenSSL, Qt...) must not be forced on Temporal, Redis, MCP
    servers or the browser a link opens. The loader read the variable when this
    process started, so the bundle itself keeps finding its own libraries.
    """
    if not is_frozen():
        return
    original = os.environ.pop(_LIBRARY_PATH_ORIG, None)
    if original:
        os.environ[_LIBRARY_PATH] = original
    else:
        os.environ.pop(_LIBRARY_PATH, None)
