"""The ``durachat`` command line: ``serve``, ``doctor`` (more commands join here)."""

from __future__ import annotations

import argparse
import sys

from backend import __version__
from backend.paths import DATA_DIR_ENV, DataDir


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="D",
        help=f"where DuraChat keeps its state (default: the platform's user data dir, "
        f"or ${DATA_DIR_ENV})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durachat", description="A chat client for LLM agents whose conversations survive."
    )
    parser.add_argument("--version", action="version", version=f"durachat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the backend without a window")
    _add_data_dir(serve)
    serve.add_argument(
        "--temporal-address",
        metavar="HOST:PORT",
        help="use this Temporal server instead of starting a local one",
    )
    serve.add_argument(
        "--redis-url",
        metavar="URL",
        help="use this Redis (redis://[:PASSWORD@]HOST:PORT[/DB]) instead of starting one",
    )
    serve.add_argument(
        "--ui", action="store_true", help="also serve Temporal's Web UI on a loopback port"
    )

    doctor = sub.add_parser("doctor", help="check binaries, ports, keyring and data dir")
    _add_data_dir(doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        data = DataDir.resolve(getattr(args, "data_dir", None))
        if args.command == "serve":
            from backend.serve import run_serve
            from backend.supervisor.supervisor import SupervisorOptions

            return run_serve(
                SupervisorOptions(
                    data_dir=data,
                    temporal_address=args.temporal_address,
                    redis_url=args.redis_url,
                    web_ui=args.ui,
                )
            )
        if args.command == "doctor":
            from backend.doctor import run_doctor

            return run_doctor(data)
        build_parser().print_help()
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # A data dir that cannot be created, a full disk: say it, no traceback.
        print(
            f"durachat: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
