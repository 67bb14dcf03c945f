"""Log files under ``<data dir>/logs/``, rotated so they never fill the disk."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import TextIO

from backend.local.private_files import private_opener

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log that a full disk or a lost permission cannot turn into noise.

    logging's default prints a traceback on stderr for every record it fails to
    write; here the first failure is one line, the rest are dropped, and once a
    write succeeds again (space was freed) a new failure is said again.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        self._failing = False
        self._failed_now = False

    def _open(self) -> TextIO:
        # 0600 like everything else in the data dir, whatever the umask of the
        # process that writes them (the window's is the desktop session's).
        return open(
            self.baseFilename,
            self.mode,
            encoding=self.encoding,
            errors=self.errors,
            opener=private_opener,
        )

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if not self._failed_now:
            self._failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        self._failed_now = True
        if self._failing:
            return
        self._failing = True
        exc = sys.exc_info()[1]
        reason = (exc.strerror if isinstance(exc, OSError) else None) or exc
        if sys.stderr is None:  # a GUI process without a console
            return
        with contextlib.suppress(OSError, ValueError):  # no stderr left either
            print(
                f"durachat: cannot write the log {self.baseFilename} ({reason}); "
                "log lines are dropped until it can",
                file=sys.stderr,
                flush=True,
            )


def rotating_handler(path: Path) -> logging.Handler:
    handler = LogFileHandler(path)
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
    handler = LogFileHandler(log_dir / f"{child}.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
