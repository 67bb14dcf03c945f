"""Wrap the one-folder bundle (``dist/durachat``) in a Debian package.

Run by ``packaging/build`` after PyInstaller. The package puts the bundle in
``/opt/durachat``, a ``durachat`` command in ``/usr/bin``, and the menu entry and
icons where desktops look for them. It has no maintainer scripts: dpkg's triggers
refresh the menu and icon caches, and removing it leaves every user's data alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend import __version__  # noqa: E402  (the repository's, not an installed one)

BUNDLE = ROOT / "dist" / "durachat"
STAGE = ROOT / "build" / "deb"
RESOURCES = ROOT / "resources"

# What Qt's xcb platform plugin loads from the system (the libraries the bundle does
# not carry), and the D-Bus library that desktop notifications and the keyring use.
QT_DEPENDS = [
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libxkbcommon0",
    "libx11-xcb1",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
]
_GLIBC_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)")


def newest_glibc_needed(bundle: Path) -> tuple[int, int]:
    """The newest C library version any file of the bundle names: the bundle runs on a
    system whose glibc is at least that. (The version strings are what the dynamic
    loader checks; reading them needs no ELF parser.)"""
    newest = (2, 17)
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.suffix != ".py":
            for major, minor in _GLIBC_VERSION.findall(path.read_bytes()):
                newest = max(newest, (int(major), int(minor)))
    return newest


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def control(arch: str, installed_kib: int, glibc: tuple[int, int]) -> str:
    depends = ", ".join([f"libc6 (>= {glibc[0]}.{glibc[1]})", *QT_DEPENDS])
    return (
        "Package: durachat\n"
        f"Version: {__version__}\n"
        f"Architecture: {arch}\n"
        "Maintainer: DuraChat developers <durachat@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {depends}\n"
        "Recommends: gnome-keyring | kwalletmanager | keepassxc\n"
        "Section: net\n"
        "Priority: optional\n"
        "Description: chat with LLM agents; conversations survive crashes and restarts\n"
        " DuraChat is a desktop chat client whose conversations run as durable\n"
        " Temporal workflows, so a reply goes on after a crash, a kill or a reboot.\n"
        " It carries its own Temporal server, Redis and Python: nothing else to install.\n"
    )


def stage(arch: str) -> Path:
    if not (BUNDLE / "durachat").is_file():
        raise SystemExit(f"make_deb: {BUNDLE}/durachat is missing: build the bundle first")
    shutil.rmtree(STAGE, ignore_errors=True)
    root = STAGE / "root"
    shutil.copytree(BUNDLE, root / "opt" / "durachat", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    # The bootloader finds its libraries from its own resolved path, so a link works.
    (root / "usr" / "bin" / "durachat").symlink_to("/opt/durachat/durachat")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy(RESOURCES / "durachat.desktop", apps / "durachat.desktop")
    icons = root / "usr" / "share" / "icons" / "hicolor"
    for size_dir, name in (("256x256", "durachat.png"), ("scalable", "durachat.svg")):
        target = icons / size_dir / "apps"
        target.mkdir(parents=True)
        shutil.copy(RESOURCES / name, target / name)
    installed_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
    debian = root / "DEBIAN"
    debian.mkdir()
    glibc = newest_glibc_needed(BUNDLE)
    (debian / "control").write_text(control(arch, installed_kib, glibc))
    for path in root.rglob("*"):  # no umask of the builder's reaches the package
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o111 else 0o644)
    return root


def main() -> int:
    arch = architecture()
    root = stage(arch)
    out = ROOT / "dist" / f"durachat_{__version__}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", "-Zzstd", "-z9", str(root), str(out)],
        check=True,
    )
    print(f"make_deb: {out} ({out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
