"""A data dir written by DuraChat at commit 38c3782, for upgrade tests.

``tests/fixtures/upgrade_38c3782/`` holds the data dir (``data_dir.tar.gz``: the
marker file and ``temporal.db``, nothing else), the test-only payload key that
encrypted it (``payload_key.json``) and what that code's ``durachat list --json``
and ``durachat history --json`` said of it (``expected.json``). See its README.md.

A test unpacks the data dir into a fresh path, installs the key into a keyring of
its own, starts ``durachat serve`` on the data dir and checks that every
conversation of ``expected.json`` is still there::

    own_keyring(tmp_path / "user", monkeypatch)  # tests.support.file_keyring
    install_fixture_key()
    data_dir, expected = unpack_upgrade_fixture(tmp_path / "data")
    sp = ServeProcess(data_dir)  # made after own_keyring: its children share that keyring
    sp.start()

Environment (conftest.py sets the first; own_keyring the other two):
PYTHON_KEYRING_BACKEND=tests.support.file_keyring.FileKeyring,
DURACHAT_TEST_KEYRING_FILE=<a fresh file>, XDG_CONFIG_HOME=<a fresh dir>.

Standard library and ``keyring`` only: nothing here depends on the code under test.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import keyring.core

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade_38c3782"
TARBALL = FIXTURE_DIR / "data_dir.tar.gz"
KEY_FILE = FIXTURE_DIR / "payload_key.json"
EXPECTED_FILE = FIXTURE_DIR / "expected.json"

# Where DuraChat keeps the payload key (backend/encryption/payload_key.py at 38c3782).
KEYRING_SERVICE = "durachat"
KEYRING_USER = "payload-key"
# The test keyring (tests/support/file_keyring.py): a JSON file named by this variable.
KEYRING_FILE_ENV = "DURACHAT_TEST_KEYRING_FILE"
TEST_KEYRING_BACKEND = "tests.support.file_keyring.FileKeyring"

# Every member of the tarball: the marker (DuraChat made this dir, so it may keep it
# private) and Temporal's database. Nothing else is accepted from it.
_MEMBERS = frozenset({".durachat-data-dir", "temporal.db"})


def expected() -> dict[str, Any]:
    """What 38c3782 said of the fixture: ``made_with_commit``, ``list`` (the
    ``durachat list --json`` output), ``histories`` (conversation id -> ``durachat
    history --json`` output), ``roles`` (finished / tools / stopped / failed -> id) and
    ``renamed`` (the conversation given a title of its own, and that title)."""
    data: dict[str, Any] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
    return data


def fixture_key() -> str:
    """The payload key exactly as 38c3782 stored it in the keyring (a JSON text)."""
    return KEY_FILE.read_text(encoding="utf-8")


def unpack_upgrade_fixture(dest: Path) -> tuple[Path, dict[str, Any]]:
    """Extract the fixture's data dir to ``dest`` (which must not exist, or be an
    empty dir) and return it with the expected outputs.

    The dir is made 0700 and every file 0600, as DuraChat keeps a data dir it made;
    the marker file in it lets DuraChat go on looking after it. ``logs/`` and
    ``redis/`` are not in the fixture: DuraChat makes them on its start (Redis
    starts empty; the conversations are all in ``temporal.db``).
    """
    dest = Path(dest)
    if dest.exists():
        if not dest.is_dir() or any(dest.iterdir()):
            raise FileExistsError(f"{dest} exists and is not an empty directory")
    else:
        dest.mkdir(mode=0o700, parents=True)
    os.chmod(dest, 0o700)  # mkdir's mode is masked by the umask
    with tarfile.open(TARBALL, "r:gz") as tar:
        members = tar.getmembers()
        names = {m.name for m in members}
        if names != _MEMBERS or not all(m.isfile() for m in members):
            raise ValueError(f"unexpected members in {TARBALL}: {sorted(names)}")
        for member in members:
            source = tar.extractfile(member)
            assert source is not None  # a regular file
            target = dest / member.name
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with source, os.fdopen(fd, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            os.chmod(target, 0o600)
            os.utime(target, (member.mtime, member.mtime))
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    return dest, expected()


def install_fixture_key() -> None:
    """Put the fixture's payload key into the test keyring, exactly as 38c3782 stored
    it: service ``durachat``, user ``payload-key``.

    The test keyring is FileKeyring (tests/support/file_keyring.py), the one conftest.py
    gives every DuraChat process of a test run with PYTHON_KEYRING_BACKEND: a JSON file
    named by DURACHAT_TEST_KEYRING_FILE, read by serve, its worker and the clients alike.
    It is written here through that class whatever this process's own keyring is, so a
    test key never reaches a real keyring.

    Give the test a keyring of its own first (``own_keyring`` in file_keyring.py): the
    run-wide one holds the key the other tests' backends made, which this would
    replace, so a keyring holding another payload key is refused.
    """
    if not os.environ.get(KEYRING_FILE_ENV):
        raise RuntimeError(f"{KEYRING_FILE_ENV} is not set: no test keyring to put the key in")
    test_keyring = keyring.core.load_keyring(TEST_KEYRING_BACKEND)
    key = fixture_key()
    held = test_keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    if held is not None and held != key:
        raise RuntimeError(
            "the test keyring already holds another payload key; give the test a keyring "
            "of its own (tests.support.file_keyring.own_keyring) before installing this one"
        )
    test_keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
