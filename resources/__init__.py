"""Icons and the .desktop entry, shipped as package data."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def icon_path() -> Path:
    """The app icon (SVG; ``durachat.png`` is the same at 256 px for older desktops)."""
    return HERE / "durachat.svg"


def desktop_entry_path() -> Path:
    """``durachat.desktop``: copy to ~/.local/share/applications to get a launcher."""
    return HERE / "durachat.desktop"
