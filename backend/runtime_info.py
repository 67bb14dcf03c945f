"""``<data dir>/runtime.json``: how to reach a running backend.

Written by the supervisor (mode 0600, it holds the Redis password) whenever a
child starts or restarts; read by CLI commands and the window to find the
backend, and by the next supervisor to reap children a crashed run left behind.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from backend.private_files import write_private


class ChildRecord(BaseModel):
    """One child process, identified by pid *and* start time so a recycled pid is
    never mistaken for ours."""

    pid: int
    create_time: float
    argv0: str


class RuntimeInfo(BaseModel):
    version: int = 1
    supervisor_pid: int
    data_dir: str
    temporal: str
    temporal_ui: str | None = None
    redis_host: str
    redis_port: int
    redis_password: str | None = None
    redis_db: int = 0
    log_dir: str
    demo_model: str | None = None  # the demo model's base URL
    children: dict[str, ChildRecord] = {}

    @property
    def redis(self) -> str:
        return f"{self.redis_host}:{self.redis_port}"

    def redis_url(self) -> str:
        auth = f":{self.redis_password}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def write(self, path: Path) -> None:
        write_private(path, self.model_dump_json(indent=2))

    @classmethod
    def read(cls, path: Path) -> RuntimeInfo | None:
        """The recorded runtime, or None when there is none or it is unreadable."""
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, ValueError):
            return None
