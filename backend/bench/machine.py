"""A one-line description of the machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_description() -> str:
    cpu = _cpu_model()
    parts = [platform.machine(), f"{os.cpu_count()} cores"]
    if cpu:
        parts.append(cpu)
    parts += [f"{platform.system()} {platform.release()}", f"Python {platform.python_version()}"]
    return ", ".join(parts)
