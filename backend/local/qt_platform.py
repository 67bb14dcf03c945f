"""Whether Qt can open the window here, asked before Qt is imported.

When Qt's platform plugin cannot load (a fresh Debian lacks ``libxcb-cursor0``) or
there is no display, creating the QApplication aborts the process (SIGABRT) with a
message that does not say what to install. This module repeats Qt's choice of
plugin, loads that plugin with ``dlopen`` as Qt would, and turns a failure into one
line that names the package to install for this distribution.

It never imports Qt, so the CLI (``durachat doctor``) can use it too.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# The Qt binding's import name, spelled in two parts: backend/ must not name it
# (tests/test_code_quality.py keeps Qt out of the backend), and it is only looked up
# here, never imported.
_BINDING = "PySide" + "6"
OS_RELEASE = (Path("/etc/os-release"), Path("/usr/lib/os-release"))
NO_WINDOW_HINT = "run DuraChat from a desktop session, or use the command line: durachat --help"


@dataclass(frozen=True)
class WindowPlatform:
    """What came of the check: the plugin Qt will use, or one line saying what is wrong."""

    platform: str | None  # e.g. "xcb"; None where Qt chooses without this check (not Linux)
    plugin: Path | None = None  # the plugin file found (loaded, unless the problem says)
    problem: str | None = None  # one line: what is wrong and how to fix it
    no_display: bool = False  # only the display is missing: the CLI and serve still work

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_window_platform(
    environ: Mapping[str, str] | None = None,
    *,
    system: str | None = None,
    os_release: str | None = None,
    plugin_dirs: Sequence[Path] | None = None,
) -> WindowPlatform:
    """Try the platforms Qt will try, in its order; the first that works is the answer.
    ``os_release`` is the text of /etc/os-release (read from the system when None)."""
    env = os.environ if environ is None else environ
    if not (system or sys.platform).startswith("linux"):
        return WindowPlatform(None)  # Windows and macOS have one platform, always there
    dirs = list(platform_plugin_dirs(env) if plugin_dirs is None else plugin_dirs)
    problems = []
    for name in platform_names(env):
        outcome = _check_one(name, env, dirs, os_release)
        if outcome.ok:
            return outcome  # Qt falls back along the list the same way
        problems.append(outcome)
    # A plugin that does not load matters more than a missing display elsewhere in the
    # list (a Wayland session without XWayland): installing a package fixes it.
    if loading := [p for p in problems if not p.no_display]:
        return loading[0]
    return _no_display(problems)


def platform_names(environ: Mapping[str, str]) -> list[str]:
    """The platforms Qt tries, in order, as qguiapplication.cpp decides it on Linux:
    QT_QPA_PLATFORM if set (``wayland;xcb``, a name may carry ``:options``), else
    Wayland first in a Wayland session, then xcb."""
    requested = [
        part.split(":", 1)[0].strip() for part in environ.get("QT_QPA_PLATFORM", "").split(";")
    ]
    if names := [name for name in requested if name]:
        return names
    wayland = "WAYLAND_DISPLAY" in environ or environ.get("XDG_SESSION_TYPE") == "wayland"
    return ["wayland", "xcb"] if wayland else ["xcb"]


def platform_plugin_dirs(environ: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins, in its order: QT_QPA_PLATFORM_PLUGIN_PATH,
    QT_PLUGIN_PATH's ``platforms``, then the binding's own plugins."""
    dirs = []
    if override := environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        dirs.append(Path(override))
    dirs += [
        Path(p) / "platforms" for p in environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p
    ]
    if bundled := bundled_plugin_dir():
        dirs.append(bundled)
    return dirs


def bundled_plugin_dir() -> Path | None:
    """``<binding>/Qt/plugins/platforms``: the plugins that come with the binding."""
    for root in binding_dirs():
        if (found := root / "Qt" / "plugins" / "platforms").is_dir():
            return found
    return None


def binding_dirs() -> list[Path]:
    """Where the binding's package may be, found without importing it (importing it
    loads Qt). A PyInstaller app keeps the same layout under sys._MEIPASS."""
    roots: list[Path] = []
    try:
        spec = importlib.util.find_spec(_BINDING)
    except (ImportError, ValueError):  # a broken install: the plugin check says so
        spec = None
    if spec is not None:
        roots += [Path(p) for p in spec.submodule_search_locations or ()]
        if spec.origin:  # frozen importers may give only the origin (…/__init__.pyc)
            roots.append(Path(spec.origin).parent)
    if meipass := getattr(sys, "_MEIPASS", None):
        roots.append(Path(meipass) / _BINDING)
    return list(dict.fromkeys(roots))


def _display_var(name: str) -> str | None:
    """The variable that names the platform's display (wayland-egl etc. share Wayland's);
    None for platforms that need none (offscreen, vnc...)."""
    if name.startswith("wayland"):
        return "WAYLAND_DISPLAY"
    return "DISPLAY" if name == "xcb" else None


def has_display(name: str, environ: Mapping[str, str]) -> bool:
    """Whether the platform has a display to connect to (platforms such as offscreen
    need none). libwayland-client falls back to the ``wayland-0`` socket."""
    var = _display_var(name)
    if var is None or environ.get(var):
        return True
    if var == "WAYLAND_DISPLAY":
        runtime = environ.get("XDG_RUNTIME_DIR")
        return bool(environ.get("WAYLAND_SOCKET")) or bool(
            runtime and (Path(runtime) / "wayland-0").exists()
        )
    return False


def _no_display(problems: Sequence[WindowPlatform]) -> WindowPlatform:
    """One line for the platforms that had no display, naming each one's variable."""
    names = list(dict.fromkeys(_display_var(p.platform or "") or "DISPLAY" for p in problems))
    unset = f"{names[0]} is not set" if len(names) == 1 else f"neither {' nor '.join(names)} is set"
    line = f"no display to open the window on ({unset}): {NO_WINDOW_HINT}"
    return WindowPlatform(problems[0].platform, None, line, no_display=True)


def _check_one(
    name: str, environ: Mapping[str, str], dirs: Sequence[Path], os_release: str | None
) -> WindowPlatform:
    if not has_display(name, environ):
        return WindowPlatform(name, None, "no display", no_display=True)
    plugin = find_plugin(name, dirs)
    if plugin is None:
        where = ", ".join(str(d) for d in dirs) or f"the {_BINDING} package (not found)"
        fix = "check QT_QPA_PLATFORM" if environ.get("QT_QPA_PLATFORM") else "reinstall DuraChat"
        return WindowPlatform(
            name,
            None,
            f"DuraChat cannot open its window: Qt's {name} platform plugin is missing "
            f"(no {plugin_file_names(name)[0]} in {where}); {fix}",
        )
    try:
        # What Qt does next. A plugin that loads stays loaded: Qt loads the same file.
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return WindowPlatform(name, plugin, load_failure_line(name, str(exc), os_release))
    return WindowPlatform(name, plugin)


def plugin_file_names(name: str) -> list[str]:
    # One Wayland plugin file serves wayland, wayland-egl and wayland-brcm.
    return [f"libq{name}.so", *(["libqwayland.so"] if name.startswith("wayland") else [])]


def find_plugin(name: str, dirs: Sequence[Path]) -> Path | None:
    for d in dirs:
        for file_name in plugin_file_names(name):
            if (d / file_name).is_file():
                return d / file_name
    return None


# glibc: "libxcb-cursor.so.0: cannot open shared object file: No such file or directory";
# musl: "Error loading shared library libxcb-cursor.so.0: No such file or directory (…)".
_GLIBC_MISSING = re.compile(r"^(?P<lib>[^\s:/]+): cannot open shared object file")
_MUSL_MISSING = re.compile(r"Error loading shared library (?P<lib>[^\s:/]+): No such file")


def missing_library(dlerror: str) -> str | None:
    """The soname of the library the loader could not find, from dlopen's message."""
    match = _GLIBC_MISSING.search(dlerror.strip()) or _MUSL_MISSING.search(dlerror)
    return match["lib"] if match else None


def load_failure_line(platform: str, dlerror: str, os_release: str | None = None) -> str:
    lib = missing_library(dlerror)
    if lib is None:  # a broken or mismatched file, not a missing one: show the loader's words
        words = " ".join(dlerror.split())
        head = f"DuraChat cannot open its window: Qt's {platform} platform plugin does not load"
        return f"{head}: {words}"
    return missing_library_line(
        lib, read_os_release() if os_release is None else os_release, platform
    )


# Package managers, by distribution family.
_INSTALL = {"debian": "sudo apt install", "fedora": "sudo dnf install", "arch": "sudo pacman -S"}
_FAMILIES = {
    "debian": "debian",
    "ubuntu": "debian",
    "fedora": "fedora",
    "rhel": "fedora",
    "centos": "fedora",
    "arch": "arch",
}

# soname -> the package that has it on (Debian/Ubuntu, Fedora/RHEL, Arch).
_PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": (
        "libxcb-render-util0",
        "xcb-util-renderutil",
        "xcb-util-renderutil",
    ),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client", "wayland"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor", "wayland"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl", "wayland"),
}
_COLUMN = {"debian": 0, "fedora": 1, "arch": 2}
# One missing library hides the next (the loader stops at the first), so for xcb the
# line names the libraries a desktop without Qt usually lacks, all at once.
_XCB_SET = (
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-keysyms.so.1",
    "libxcb-image.so.0",
    "libxcb-render-util.so.0",
    "libxkbcommon-x11.so.0",
)


def read_os_release(paths: Sequence[Path] = OS_RELEASE) -> str:
    for path in paths:
        try:
            return path.read_text()
        except OSError:
            continue
    return ""


def distribution_family(os_release: str) -> str | None:
    """ "debian", "fedora" or "arch" from os-release's ID, then ID_LIKE; None if unknown."""
    fields = {}
    for line in os_release.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    for distro_id in [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]:
        if family := _FAMILIES.get(distro_id.lower()):
            return family
    return None


def _xcb_related(lib: str) -> bool:
    return lib.lower().startswith(("libxcb", "libx11-xcb", "libxkbcommon"))


def missing_library_line(lib: str, os_release: str, platform: str = "xcb") -> str:
    """The line for a missing library: the install command for this distribution, or,
    for an unknown distribution or library, the library's file name."""
    head = f"DuraChat cannot open its window: {lib} is missing."
    family = distribution_family(os_release)
    if family is None or lib not in _PACKAGES:
        return f"{head} Install the package that provides {lib}"
    libs = [lib, *_XCB_SET] if platform == "xcb" and _xcb_related(lib) else [lib]
    packages = dict.fromkeys(_PACKAGES[name][_COLUMN[family]] for name in libs)
    return f"{head} Install: {_INSTALL[family]} {' '.join(packages)}"
