"""Log files under ``<data dir>/logs/``, rotated so they never fill the disk."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def rotating_handler(path: Path) -> logging.Handler:
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


def setup_process_logging(log_file: Path, level: int = logging.INFO) -> None:
    """Send this process's log records to one rotating file (and nowhere else)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(rotating_handler(log_file))
    root.setLevel(level)


def child_output_logger(log_dir: Path, child: str) -> logging.Logger:
    """A logger that writes one child process's stdout/stderr lines to ``<child>.log``.

    It is deliberately not registered with ``logging.getLogger``: two supervisors in
    one process (tests, the window) must not share handlers.
    """
    logger = logging.Logger(f"durachat.child.{child}", logging.INFO)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / f"{child}.log", maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
