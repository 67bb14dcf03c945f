"""``<data dir>/runtime.json``: how to reach a running backend.

Written by the supervisor (mode 0600, it holds the Redis password) whenever a
child starts or restarts; read by CLI commands and the window to find the
backend, and by the next supervisor to reap children a crashed run left behind.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ValidationError, model_validator

from backend.local.private_files import write_private


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
    # Redis is reached either on a unix socket (the one DuraChat starts, in the
    # private data dir) or on HOST:PORT (a fallback, or a server the user named).
    redis_socket: str | None = None
    redis_host: str | None = None
    redis_port: int | None = None
    redis_password: str | None = None
    redis_db: int = 0
    log_dir: str
    demo_model: str | None = None  # the demo model's base URL
    children: dict[str, ChildRecord] = {}

    @model_validator(mode="after")
    def _one_redis_address(self) -> RuntimeInfo:
        if not self.redis_socket and not (self.redis_host and self.redis_port):
            raise ValueError("runtime info names no Redis: neither a socket nor HOST:PORT")
        return self

    @property
    def redis(self) -> str:
        """Where Redis listens: its socket's path, or HOST:PORT."""
        return self.redis_socket or f"{self.redis_host}:{self.redis_port}"

    def redis_url(self) -> str:
        """A URL for redis-py's ``from_url``: ``unix://PATH?...`` or ``redis://...``."""
        if self.redis_socket:
            query: dict[str, str | int] = {"db": self.redis_db}
            if self.redis_password:
                query["password"] = self.redis_password
            return f"unix://{quote(self.redis_socket)}?{urlencode(query)}"
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
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
