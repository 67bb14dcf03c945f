"""The window check run before Qt is imported: which platform plugin Qt will try, and
one line saying what to install when it cannot load (backend.local.qt_platform)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backend.local.qt_platform import (
    binding_dirs,
    bundled_plugin_dir,
    check_window_platform,
    distribution_family,
    missing_library,
    missing_library_line,
    platform_names,
    read_os_release,
)

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'
MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n'
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
ARCH = 'NAME="Arch Linux"\nID=arch\n'
MANJARO = 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n'
OPENSUSE = 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n'

GLIBC_CURSOR = "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"


# dlopen's messages


def test_glibc_message_names_the_missing_library() -> None:
    assert missing_library(GLIBC_CURSOR) == "libxcb-cursor.so.0"


def test_musl_message_names_the_missing_library() -> None:
    message = (
        "Error loading shared library libxkbcommon-x11.so.0: No such file or directory "
        "(needed by /opt/durachat/libqxcb.so)"
    )
    assert missing_library(message) == "libxkbcommon-x11.so.0"


@pytest.mark.parametrize(
    "message",
    [
        "/opt/x/libqxcb.so: invalid ELF header",
        "/opt/x/libqxcb.so: cannot open shared object file: Permission denied",
        "/opt/x/libQt6XcbQpa.so.6: undefined symbol: _ZN7QObject4tr",
        "libfoo.so.1: wrong ELF class: ELFCLASS32",
    ],
)
def test_other_load_failures_name_no_missing_library(message: str) -> None:
    assert missing_library(message) is None


# Packages by distribution


@pytest.mark.parametrize(
    ("os_release", "family"),
    [
        (DEBIAN, "debian"),
        (UBUNTU, "debian"),
        (MINT, "debian"),
        (FEDORA, "fedora"),
        (ROCKY, "fedora"),
        (ARCH, "arch"),
        (MANJARO, "arch"),
        (OPENSUSE, None),
        ("", None),
    ],
)
def test_distribution_family_from_id_then_id_like(os_release: str, family: str | None) -> None:
    assert distribution_family(os_release) == family


@pytest.mark.parametrize(
    ("lib", "os_release", "command"),
    [
        # Debian: the usual xcb set in one apt line.
        (
            "libxcb-cursor.so.0",
            DEBIAN,
            "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
            "libxcb-render-util0 libxkbcommon-x11-0",
        ),
        # A library outside the usual set comes first.
        (
            "libxcb-xinput.so.0",
            UBUNTU,
            "sudo apt install libxcb-xinput0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
            "libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0",
        ),
        (
            "libxcb-icccm.so.4",
            ROCKY,
            "sudo dnf install xcb-util-wm xcb-util-cursor xcb-util-keysyms xcb-util-image "
            "xcb-util-renderutil libxkbcommon-x11",
        ),
        (
            "libxcb-cursor.so.0",
            MANJARO,
            "sudo pacman -S xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image "
            "xcb-util-renderutil libxkbcommon-x11",
        ),
    ],
)
def test_a_missing_xcb_library_names_the_set_for_the_distribution(
    lib: str, os_release: str, command: str
) -> None:
    assert missing_library_line(lib, os_release) == (
        f"DuraChat cannot open its window: {lib} is missing. Install: {command}"
    )


def test_a_library_outside_xcb_names_only_its_package() -> None:
    assert missing_library_line("libEGL.so.1", DEBIAN).endswith("Install: sudo apt install libegl1")
    assert missing_library_line("libEGL.so.1", FEDORA).endswith("sudo dnf install libglvnd-egl")
    # The Wayland plugin needs xkbcommon too, but not the xcb libraries.
    line = missing_library_line("libxkbcommon.so.0", ARCH, platform="wayland")
    assert line.endswith("Install: sudo pacman -S libxkbcommon")


def test_an_unknown_distribution_or_library_names_the_file() -> None:
    assert missing_library_line("libxcb-cursor.so.0", OPENSUSE) == (
        "DuraChat cannot open its window: libxcb-cursor.so.0 is missing. "
        "Install the package that provides libxcb-cursor.so.0"
    )
    line = missing_library_line("libsomething-new.so.3", DEBIAN)
    assert line.endswith("Install the package that provides libsomething-new.so.3")
    assert "apt" not in line


def test_os_release_is_read_from_the_first_file_that_exists(tmp_path: Path) -> None:
    (tmp_path / "usr-lib-os-release").write_text(ARCH)
    assert read_os_release([tmp_path / "absent", tmp_path / "usr-lib-os-release"]) == ARCH
    assert read_os_release([tmp_path / "absent"]) == ""


# Which platforms Qt tries


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"QT_QPA_PLATFORM": "xcb"}, ["xcb"]),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, ["wayland", "xcb"]),
        ({"QT_QPA_PLATFORM": "xcb:nograb;offscreen"}, ["xcb", "offscreen"]),
        ({"QT_QPA_PLATFORM": " ;wayland-egl:foo=1; "}, ["wayland-egl"]),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, ["xcb"]),
        ({}, ["xcb"]),
        ({"DISPLAY": ":0"}, ["xcb"]),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, ["wayland", "xcb"]),
        ({"XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
        ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, ["xcb"]),
        ({"QT_QPA_PLATFORM": ""}, ["xcb"]),  # set but empty: Qt ignores it too
    ],
)
def test_platform_names(environ: dict[str, str], names: list[str]) -> None:
    assert platform_names(environ) == names


# Decisions (plugin dirs and environ given, nothing read from this machine's session)


def test_no_display_for_xcb(tmp_path: Path) -> None:
    found = check_window_platform({}, system="linux", plugin_dirs=[tmp_path])
    assert found.no_display and not found.ok
    assert found.problem == (
        "no display to open the window on (DISPLAY is not set): run DuraChat from a desktop "
        "session, or use the command line: durachat --help"
    )


def test_no_display_in_a_wayland_session_names_both_variables(tmp_path: Path) -> None:
    found = check_window_platform(
        {"XDG_SESSION_TYPE": "wayland", "XDG_RUNTIME_DIR": str(tmp_path)},
        system="linux",
        plugin_dirs=[tmp_path],
    )
    assert found.no_display
    assert found.problem and "(neither WAYLAND_DISPLAY nor DISPLAY is set)" in found.problem


def test_explicit_wayland_without_wayland_display() -> None:
    found = check_window_platform({"QT_QPA_PLATFORM": "wayland"}, system="linux", plugin_dirs=[])
    assert found.no_display
    assert found.problem and "(WAYLAND_DISPLAY is not set)" in found.problem


def test_the_default_wayland_socket_counts_as_a_display(tmp_path: Path) -> None:
    # libwayland-client connects to $XDG_RUNTIME_DIR/wayland-0 when WAYLAND_DISPLAY is unset.
    (tmp_path / "wayland-0").touch()
    found = check_window_platform(
        {"QT_QPA_PLATFORM": "wayland", "XDG_RUNTIME_DIR": str(tmp_path)},
        system="linux",
        plugin_dirs=[tmp_path],
    )
    assert not found.no_display
    assert found.problem and "wayland platform plugin is missing" in found.problem


def test_a_missing_plugin_is_named(tmp_path: Path) -> None:
    found = check_window_platform({"DISPLAY": ":0"}, system="linux", plugin_dirs=[tmp_path])
    assert found.problem == (
        "DuraChat cannot open its window: Qt's xcb platform plugin is missing "
        f"(no libqxcb.so in {tmp_path}); reinstall DuraChat"
    )


def test_a_plugin_that_does_not_load_says_why(tmp_path: Path) -> None:
    (tmp_path / "libqxcb.so").write_bytes(b"not a shared library")
    found = check_window_platform(
        {"DISPLAY": ":0"}, system="linux", os_release=DEBIAN, plugin_dirs=[tmp_path]
    )
    assert not found.no_display and found.plugin == tmp_path / "libqxcb.so"
    assert found.problem and found.problem.startswith(
        "DuraChat cannot open its window: Qt's xcb platform plugin does not load: "
    )
    assert "\n" not in found.problem


def test_a_plugin_that_does_not_load_outranks_a_missing_display(tmp_path: Path) -> None:
    # A Wayland session without XWayland: the Wayland plugin is the one to mend.
    (tmp_path / "libqwayland.so").write_bytes(b"broken")
    found = check_window_platform(
        {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
        system="linux",
        plugin_dirs=[tmp_path],
    )
    assert found.platform == "wayland" and not found.no_display
    assert found.problem and "wayland platform plugin does not load" in found.problem


def test_qt_falls_back_along_the_list_and_so_does_the_check(tmp_path: Path) -> None:
    (tmp_path / "libqwayland.so").write_bytes(b"broken")
    bundled = bundled_plugin_dir()
    assert bundled is not None
    found = check_window_platform(
        {"QT_QPA_PLATFORM": "wayland;offscreen", "WAYLAND_DISPLAY": "wayland-0"},
        system="linux",
        plugin_dirs=[tmp_path, bundled],  # the broken Wayland plugin is found first
    )
    assert found.ok and found.platform == "offscreen"


def test_the_bundled_offscreen_plugin_loads() -> None:
    found = check_window_platform({"QT_QPA_PLATFORM": "offscreen"}, system="linux")
    assert found.ok, found.problem
    assert found.plugin is not None and found.plugin.name == "libqoffscreen.so"
    assert found.plugin.parent.parts[-4:] == ("PySide6", "Qt", "plugins", "platforms")


def test_qt_qpa_platform_plugin_path_comes_first(tmp_path: Path) -> None:
    (tmp_path / "libqoffscreen.so").write_bytes(b"broken")
    found = check_window_platform(
        {"QT_QPA_PLATFORM": "offscreen", "QT_QPA_PLATFORM_PLUGIN_PATH": str(tmp_path)},
        system="linux",
    )
    assert found.plugin == tmp_path / "libqoffscreen.so"
    assert found.problem and "does not load" in found.problem


def test_a_frozen_app_looks_under_meipass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert binding_dirs()[-1] == tmp_path / "PySide6"


def test_other_systems_are_left_to_qt(tmp_path: Path) -> None:
    for system in ("darwin", "win32"):
        found = check_window_platform({}, system=system, plugin_dirs=[tmp_path])
        assert found.ok and found.platform is None
