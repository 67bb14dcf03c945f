"""What the supervisor and the worker process agree on: environment in, ready line out."""

from __future__ import annotations

import os
from dataclasses import dataclass

READY_LINE = '{"event": "worker_ready"}'

_ENV_TEMPORAL = "DURACHAT_TEMPORAL_ADDRESS"
_ENV_REDIS = "DURACHAT_REDIS_URL"
_ENV_DATA_DIR = "DURACHAT_DATA_DIR"
_ENV_DEMO = "DURACHAT_DEMO_BASE_URL"


@dataclass(frozen=True)
class WorkerEnv:
    """Passed through the environment, which only the same user can read (unlike argv)."""

    temporal_address: str
    redis_url: str
    data_dir: str
    demo_base_url: str | None = None  # the demo model this backend runs, if any

    def to_environ(self) -> dict[str, str]:
        env = {
            _ENV_TEMPORAL: self.temporal_address,
            _ENV_REDIS: self.redis_url,
            _ENV_DATA_DIR: self.data_dir,
        }
        if self.demo_base_url:
            env[_ENV_DEMO] = self.demo_base_url
        return env

    @classmethod
    def from_environ(cls) -> WorkerEnv:
        try:
            return cls(
                os.environ[_ENV_TEMPORAL],
                os.environ[_ENV_REDIS],
                os.environ[_ENV_DATA_DIR],
                os.environ.get(_ENV_DEMO),
            )
        except KeyError as missing:
            raise SystemExit(
                f"backend.worker is started by the DuraChat supervisor; {missing} is not set"
            ) from None
