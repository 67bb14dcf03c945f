"""The file tools stay inside the granted folder, cost bounded memory, and never crash a turn."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.tools import files
from backend.tools.errors import ToolError
from backend.tools.files import MAX_READ_BYTES, list_files, read_file

SECRET = "the secret outside the granted folder\n" * 331  # a size no other file has


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    folder = tmp_path / "granted"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("hello from the granted folder")
    (folder / "sub" / "deep.txt").write_text("deep inside")
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "notes.txt").write_text(SECRET)
    (folder / "deep.txt").write_text(SECRET)
    return folder


def test_reading_and_listing_still_work(granted: Path) -> None:
    assert read_file(str(granted), "notes.txt") == "hello from the granted folder"
    assert read_file(str(granted), "sub/deep.txt") == "deep inside"
    assert list_files(str(granted), ".") == "sub/\nnotes.txt (29 bytes)"


def test_paths_outside_the_folder_are_refused(granted: Path, outside: Path) -> None:
    (granted / "out").symlink_to(outside / "notes.txt")
    for path in ("../outside/notes.txt", str(outside / "notes.txt"), "out"):
        with pytest.raises(ToolError, match="outside the granted folder"):
            read_file(str(granted), path)


def test_symlinks_that_stay_inside_the_folder_may_be_read(granted: Path) -> None:
    (granted / "link.txt").symlink_to("notes.txt")
    (granted / "linked_dir").symlink_to("sub")
    assert read_file(str(granted), "link.txt") == "hello from the granted folder"
    assert read_file(str(granted), "linked_dir/deep.txt") == "deep inside"


def test_a_huge_file_is_cut_without_being_read_whole(
    granted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = granted / "big.log"
    with big.open("wb") as f:
        f.write(b"line of text\n" * 2000)
        f.truncate(400 * 1024 * 1024)  # sparse: costs no disk, reads as zeros

    bytes_read = 0
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        nonlocal bytes_read
        data = real_read(fd, n)
        bytes_read += len(data)
        return data

    monkeypatch.setattr(os, "read", counting_read)
    tracemalloc.start()
    try:
        text = read_file(str(granted), "big.log")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert text.startswith("line of text\n")
    assert text.endswith(f"[... cut at {MAX_READ_BYTES} bytes]")
    assert bytes_read == MAX_READ_BYTES + 1  # the cap plus one byte to know it was cut
    assert peak < 16 * 1024 * 1024  # reading it whole would allocate 400 MB


@pytest.mark.parametrize(
    "path",
    ["notes\0.txt", "x" * 5000, "y" * 300, "\ud800.txt", 12, None, ["notes.txt"]],
    ids=["nul", "over-path-max", "over-name-max", "lone-surrogate", "int", "none", "list"],
)
def test_an_invalid_path_is_a_tool_error(granted: Path, path: object) -> None:
    with pytest.raises(ToolError):
        read_file(str(granted), path)  # type: ignore[arg-type]
    with pytest.raises(ToolError):
        list_files(str(granted), path)  # type: ignore[arg-type]


def test_an_unusable_granted_folder_is_a_tool_error(tmp_path: Path) -> None:
    for granted in (None, "", str(tmp_path / "missing"), "bad\0folder"):
        with pytest.raises(ToolError):
            list_files(granted, ".")


def test_a_broken_symlink_does_not_break_the_listing(granted: Path) -> None:
    (granted / "dangling").symlink_to(granted / "gone.txt")
    (granted / "loop").symlink_to("loop")

    listing = list_files(str(granted), ".").splitlines()

    assert "notes.txt (29 bytes)" in listing and "sub/" in listing
    assert "dangling -> (link)" in listing and "loop -> (link)" in listing
    with pytest.raises(ToolError):
        read_file(str(granted), "dangling")
    with pytest.raises(ToolError):
        read_file(str(granted), "loop")


def test_a_listing_shows_nothing_of_a_link_target_outside(granted: Path, outside: Path) -> None:
    (granted / "secret").symlink_to(outside / "notes.txt")
    (granted / "elsewhere").symlink_to(outside)

    listing = list_files(str(granted), ".")

    assert "secret -> (link)" in listing.splitlines()
    assert "elsewhere -> (link)" in listing.splitlines()
    assert str(len(SECRET)) not in listing
    with pytest.raises(ToolError, match="outside the granted folder"):
        list_files(str(granted), "elsewhere")


def test_special_files_are_listed_but_not_read(granted: Path) -> None:
    os.mkfifo(granted / "pipe")
    assert "pipe (special file)" in list_files(str(granted), ".").splitlines()
    with pytest.raises(ToolError, match="not a file"):
        read_file(str(granted), "pipe")


def _swap_after_vetting(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """Runs ``swap`` between the check of a path and its opening, as a racing process could."""
    real_vet = files._vet

    def vet_then_swap(granted: str | None, path: str) -> files.Vetted:
        vetted = real_vet(granted, path)
        swap()
        return vetted

    monkeypatch.setattr(files, "_vet", vet_then_swap)


def test_a_file_swapped_for_a_symlink_after_the_check_is_not_read(
    granted: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = granted / "notes.txt"

    def swap() -> None:
        notes.unlink()
        notes.symlink_to(outside / "notes.txt")

    _swap_after_vetting(monkeypatch, swap)
    with pytest.raises(ToolError, match="changed while it was being opened") as refused:
        read_file(str(granted), "notes.txt")
    assert "secret" not in str(refused.value)


def test_the_open_helper_refuses_a_vetted_path_now_a_symlink(granted: Path, outside: Path) -> None:
    vetted = files._vet(str(granted), "notes.txt")
    (granted / "notes.txt").unlink()
    (granted / "notes.txt").symlink_to(outside / "notes.txt")
    with pytest.raises(ToolError, match="changed while it was being opened"):
        files._open_vetted(vetted, files._READ_FLAGS)


def test_a_file_replaced_by_another_after_the_check_is_not_read(
    granted: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swap_after_vetting(
        monkeypatch, lambda: os.replace(outside / "notes.txt", granted / "notes.txt")
    )
    with pytest.raises(ToolError, match="changed while it was being opened"):
        read_file(str(granted), "notes.txt")


def test_a_folder_above_swapped_for_a_symlink_after_the_check_is_not_read(
    granted: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swap_after_vetting(monkeypatch, lambda: _folder_to_link(granted, outside))
    with pytest.raises(ToolError, match="changed while it was being opened"):
        read_file(str(granted), "sub/deep.txt")


def test_a_file_swapped_for_a_fifo_is_refused_without_blocking(
    granted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = granted / "notes.txt"

    def swap() -> None:
        notes.unlink()
        os.mkfifo(notes)

    _swap_after_vetting(monkeypatch, swap)
    # Without O_NONBLOCK this open would wait for a writer forever.
    with pytest.raises(ToolError, match="changed while it was being opened"):
        read_file(str(granted), "notes.txt")


def test_a_folder_swapped_for_a_symlink_after_the_check_is_not_listed(
    granted: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swap_after_vetting(monkeypatch, lambda: _folder_to_link(granted, outside))
    with pytest.raises(ToolError):
        list_files(str(granted), "sub")


def _folder_to_link(granted: Path, outside: Path) -> None:
    """Put a link to the outside folder where the granted folder's ``sub`` was."""
    (granted / "sub").rename(granted / "old_sub")
    (granted / "sub").symlink_to(outside)


def test_a_file_name_that_is_not_utf8_is_listed_escaped(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"bad\xffname.txt")).write_text("x")
    (tmp_path / "good.txt").write_text("y")
    listing = list_files(str(tmp_path), ".")
    assert "bad\\xffname.txt (1 bytes)" in listing and "good.txt (1 bytes)" in listing
    listing.encode("utf-8")  # what the tool returns can be sent on and stored
