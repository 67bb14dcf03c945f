"""``python -m backend.demo_model``: serve the demo model until SIGTERM or SIGINT.

Prints exactly one JSON line on stdout once it accepts connections:
``{"event": "ready", "base_url": "http://127.0.0.1:PORT/v1"}``. Everything else goes to
stderr. A required key is read from the environment variable named by
``--require-key-env``, never from argv, where any user on the machine could read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence

from backend.demo_model.faults import FaultSpec, FaultSyntaxError
from backend.demo_model.runner import (
    DEFAULT_HOST,
    DemoModelBindError,
    bind_demo_model,
    start_serving,
)
from backend.demo_model.server import DEFAULT_TOKENS_PER_SECOND

EXIT_USAGE = 2
EXIT_BIND_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durachat demo-model",
        description="DuraChat's demo model: an OpenAI-compatible server with scripted replies.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--listen-fd",
        type=int,
        metavar="FD",
        help="serve on this inherited listening socket instead of binding (the supervisor's)",
    )
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=DEFAULT_TOKENS_PER_SECOND,
        help="default pacing; 0 streams as fast as possible (default: %(default)s)",
    )
    parser.add_argument(
        "--fault",
        help="inject this fault into every request: 401, 429[:SECONDS], 500, drop@K, hang@K, "
        "malformed@K or empty, optionally with xN (first N attempts of each request only)",
    )
    parser.add_argument(
        "--require-key-env",
        metavar="VAR",
        help="accept only the bearer key held in environment variable VAR",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tokens_per_second < 0:
        parser.error("--tokens-per-second must be 0 or more")
    fault: FaultSpec | None = None
    if args.fault:
        try:
            fault = FaultSpec.parse(args.fault)
        except FaultSyntaxError as exc:
            parser.error(str(exc))
    api_key: str | None = None
    if args.require_key_env:
        api_key = os.environ.get(args.require_key_env)
        if not api_key:
            print(
                f"demo model: environment variable {args.require_key_env} is not set or empty",
                file=sys.stderr,
            )
            return EXIT_USAGE
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="demo model: %(levelname)s %(message)s"
    )
    return asyncio.run(
        _serve(args.host, args.port, args.tokens_per_second, fault, api_key, args.listen_fd)
    )


async def _serve(
    host: str,
    port: int,
    tokens_per_second: float,
    fault: FaultSpec | None,
    api_key: str | None,
    listen_fd: int | None,
) -> int:
    try:
        bound = bind_demo_model(host, port, tokens_per_second, fault, api_key, listen_fd)
    except DemoModelBindError as exc:
        print(f"demo model: {exc}", file=sys.stderr)
        return EXIT_BIND_FAILED
    server = bound.server

    def request_exit() -> None:
        # A second signal means "now": skip waiting for open connections.
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_exit)
    task = await start_serving(bound)
    print(json.dumps({"event": "ready", "base_url": bound.base_url}), flush=True)
    await task
    return 0
