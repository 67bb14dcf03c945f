"""Make a child process die when the supervisor dies, even by SIGKILL.

On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child
between fork and exec. Elsewhere there is no such call; there the next
supervisor reaps what a crashed one left (see ``reaper.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return libc.prctl


# Resolved at import, in the parent: the child between fork and exec must do as
# little as possible (other threads' locks are frozen in it).
_PRCTL = _load_prctl()


def preexec_for_parent(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties the child's life to ``parent_pid``."""
    if _PRCTL is None:
        return None
    prctl = _PRCTL

    def tie() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died between fork and prctl: then nobody will signal us.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return tie
