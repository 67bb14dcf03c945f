"""Standard output closed by its reader, as in ``durachat send ... | head``."""

from __future__ import annotations

import os
import sys


def stdout_closed() -> int:
    """Stop quietly: nothing more can be printed, and nothing went wrong. Standard output
    is pointed at /dev/null first, so the flush at exit cannot fail in its turn (the
    handling Python's documentation gives for a closed pipe). Exit status 1, as Python's."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1
