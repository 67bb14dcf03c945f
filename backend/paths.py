"""Where DuraChat keeps its files.

One data dir holds everything durable (Temporal's database, Redis's append-only
file, settings, logs, runtime.json). It is private to the user: mode 0700.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "DuraChat"
DATA_DIR_ENV = "DURACHAT_DATA_DIR"


def default_data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class DataDir:
    """The layout of one data dir; every file path the backend uses comes from here."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> DataDir:
        root = Path(explicit).expanduser() if explicit else default_data_dir()
        return cls(root.absolute())

    def ensure(self) -> DataDir:
        """Create the data dir (0700) and its sub-folders; tighten loose permissions."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is masked by the umask and ignored for an existing dir.
        if self.root.stat().st_mode & 0o077:
            os.chmod(self.root, 0o700)
        for sub in (self.logs, self.redis_dir):
            sub.mkdir(mode=0o700, exist_ok=True)
        return self

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def redis_conf(self) -> Path:
        return self.redis_dir / "redis.conf"

    @property
    def temporal_db(self) -> Path:
        return self.root / "temporal.db"

    @property
    def runtime_file(self) -> Path:
        return self.root / "runtime.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"
