"""Where the backend's Redis is: a unix socket, or HOST:PORT, plus password and db."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisTarget:
    host: str | None
    port: int | None
    password: str | None
    db: int = 0
    socket: str | None = None  # a unix socket's path; then host and port are None

    @classmethod
    def from_url(cls, url: str) -> RedisTarget:
        """``redis://[:PASSWORD@]HOST:PORT[/DB]`` or ``unix://PATH[?password=P&db=N]``."""
        # Here, not at the top: only a serve given --redis-url pays for the import.
        from redis.connection import parse_url

        if not url.startswith(("redis://", "unix://")):
            raise ValueError(
                f"expected redis://[:PASSWORD@]HOST:PORT[/DB] or unix://PATH[?password=P], "
                f"got {url!r}"
            )
        try:
            parts = parse_url(url)
        except ValueError as exc:
            raise ValueError(f"{exc} (got {url!r})") from None
        password, db = parts.get("password"), parts.get("db", 0)
        if url.startswith("unix://"):
            if not parts.get("path"):
                raise ValueError(f"expected unix://PATH[?password=P&db=N], got {url!r}")
            return cls(None, None, password, db, parts["path"])
        if not parts.get("host"):
            raise ValueError(f"expected redis://[:PASSWORD@]HOST:PORT[/DB], got {url!r}")
        return cls(parts["host"], parts.get("port", 6379), password, db)

    def __str__(self) -> str:
        return self.socket or f"{self.host}:{self.port}"
