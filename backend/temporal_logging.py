"""Temporal's core (Rust) writes its own warnings straight to stdout: every retried
RPC while a server restarts, payloads over 512 KB. Processes that have a log file
send them there instead, through Python logging."""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)


def forward_core_logs(logger_name: str = "temporalio.core") -> None:
    """Call before the first Temporal client or worker is made in this process."""
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(logger_name)),
    )
    runtime = Runtime(telemetry=TelemetryConfig(logging=logging_config))
    Runtime.set_default(runtime, error_if_already_set=False)
