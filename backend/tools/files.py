"""Listing and reading text files inside the one folder the user granted.

Every path is resolved (symlinks included) and must stay inside the granted
folder; anything else is refused with a ToolError the model sees.
"""

from __future__ import annotations

from pathlib import Path

from backend.tools.errors import ToolError

MAX_READ_BYTES = 256 * 1024
MAX_ENTRIES = 500


def _inside(granted: str | None, path: str) -> Path:
    if not granted:
        raise ToolError("no folder is granted for file tools: choose one in Settings")
    root = Path(granted).expanduser().resolve()
    target = (root / path).resolve() if path not in ("", ".") else root
    if not target.is_relative_to(root):
        raise ToolError(f"{path!r} is outside the granted folder; only {root} may be read")
    return target


def list_files(granted: str | None, path: str = ".") -> str:
    folder = _inside(granted, path)
    if not folder.is_dir():
        raise ToolError(f"{path!r} is not a folder")
    entries = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
    lines = [
        f"{e.name}/" if e.is_dir() else f"{e.name} ({e.stat().st_size} bytes)"
        for e in entries[:MAX_ENTRIES]
    ]
    if len(entries) > MAX_ENTRIES:
        lines.append(f"... and {len(entries) - MAX_ENTRIES} more")
    return "\n".join(lines) if lines else "(empty folder)"


def read_file(granted: str | None, path: str) -> str:
    target = _inside(granted, path)
    if not target.is_file():
        raise ToolError(f"{path!r} is not a file")
    data = target.read_bytes()[: MAX_READ_BYTES + 1]
    if b"\0" in data[:8192]:
        raise ToolError(f"{path!r} is not a text file")
    text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_READ_BYTES:
        text += f"\n[... cut at {MAX_READ_BYTES} bytes]"
    return text
