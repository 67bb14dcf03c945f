"""The ``durachat`` command line: ``serve``, ``doctor`` (more commands join here)."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from backend import __version__
from backend.local.paths import DATA_DIR_ENV, DataDir
from backend.local.settings import SettingsError


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
        help="use this Redis (redis://[:PASSWORD@]HOST:PORT[/DB] or "
        "unix://PATH?password=P&db=N) instead of starting one",
    )
    serve.add_argument(
        "--ui", action="store_true", help="also serve Temporal's Web UI on a loopback port"
    )

    send = sub.add_parser("send", help="send one message and stream the reply")
    _add_data_dir(send)
    send.add_argument("--conversation", metavar="ID", help="continue this conversation")
    send.add_argument("--json", action="store_true", help="print one JSON event a line")
    send.add_argument("text", help="the message; - reads it from standard input (as UTF-8)")

    history = sub.add_parser("history", help="print a conversation's durable history")
    _add_data_dir(history)
    history.add_argument("--conversation", metavar="ID", required=True)
    history.add_argument("--json", action="store_true", help="(the output is always JSON)")
    history.add_argument("--last", type=_positive, metavar="N", help="only the newest N turns")

    listing = sub.add_parser("list", help="list the conversations, most recent first")
    _add_data_dir(listing)
    listing.add_argument(
        "--search", metavar="TEXT", default="", help="only those with every word of TEXT"
    )
    listing.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="write conversations out as Markdown or JSON")
    _add_data_dir(export)
    which = export.add_mutually_exclusive_group()
    which.add_argument("--conversation", metavar="ID", help="this conversation")
    which.add_argument("--all", action="store_true", help="every conversation (the default)")
    export.add_argument("--format", choices=["markdown", "json"], default="markdown")
    export.add_argument("-o", "--output", metavar="PATH", help="write here (default: stdout)")

    imports = sub.add_parser(
        "import", help="read a DuraChat JSON export or a ChatGPT conversations.json"
    )
    _add_data_dir(imports)
    imports.add_argument("path", metavar="PATH")

    delete = sub.add_parser("delete", help="delete a conversation everywhere, for good")
    _add_data_dir(delete)
    delete.add_argument("--conversation", metavar="ID", required=True)

    serve.add_argument(
        "--provider",
        choices=["demo", "openai", "openai-compatible"],
        help="which model to use (saved in settings)",
    )
    serve.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server's URL")
    serve.add_argument("--model", metavar="NAME", help="the model name (saved in settings)")
    serve.add_argument(
        "--demo-tokens-per-second",
        type=float,
        metavar="N",
        help="the demo model's pacing (0: as fast as possible)",
    )

    bench = sub.add_parser(
        "bench",
        help="measure streaming side by side: direct, DuraChat, Temporal Workflow Streams",
    )
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    bench.add_argument(
        "--scale",
        action="store_true",
        help="measure the conversation store at scale instead (10,000 conversations, a "
        "1,000-turn conversation): see python -m backend.bench.scale --help",
    )
    bench.add_argument(
        "--runs", type=_positive, default=20, metavar="N", help="rounds of prompts (default 20)"
    )
    bench.add_argument(
        "--tokens",
        type=_positive,
        default=200,
        metavar="N",
        help="tokens per unpaced reply (default 200)",
    )
    bench.add_argument(
        "--stream-tokens",
        type=_positive,
        default=5000,
        metavar="N",
        help="tokens of the reply that measures throughput (default 5000)",
    )
    bench.add_argument(
        "--pause",
        type=_seconds,
        default=0.2,
        metavar="S",
        help="seconds between a reply's end and the next prompt (default 0.2)",
    )

    doctor = sub.add_parser("doctor", help="check binaries, ports, keyring and data dir")
    _add_data_dir(doctor)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number of at least 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"needs seconds from 0 to 60, got {text!r}")
    return value


def _message_text(text: str) -> str:
    """The message as given; ``-`` reads it from stdin, the way for text too long for an
    argument (Linux caps one at 128 KiB) or holding NUL characters."""
    if text != "-":
        return text
    # surrogateescape keeps bytes that are not UTF-8, so the send check can name them.
    return sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "bench" and args.scale:
        from backend.bench.scale import main as scale_main

        return scale_main(["--json"] if args.json else [])
    if args.command == "bench":  # its own backend in a temporary data dir
        from backend.bench.command import run_bench_command
        from backend.bench.comparison import BenchOptions

        options = BenchOptions(
            runs=args.runs,
            tokens=args.tokens,
            paced_tokens=min(args.tokens, 50),
            stream_tokens=args.stream_tokens,
            pause_s=args.pause,
        )
        return run_bench_command(options, args.json)
    data: DataDir | None = None
    try:
        data = DataDir.resolve(getattr(args, "data_dir", None))
        if args.command == "serve":
            from backend.cli.serve import run_serve
            from backend.local.settings import save_choices
            from backend.supervisor.supervisor import SupervisorOptions

            return run_serve(
                SupervisorOptions(
                    data_dir=data,
                    temporal_address=args.temporal_address,
                    redis_url=args.redis_url,
                    web_ui=args.ui,
                    demo_tokens_per_second=args.demo_tokens_per_second,
                    # Only once this serve holds the data dir: a second serve, which
                    # exits 3, must not rewrite the running backend's settings.
                    on_locked=partial(save_choices, data, args.provider, args.base_url, args.model),
                )
            )
        if args.command == "send":
            from backend.cli import chat as cli_chat

            text = _message_text(args.text)
            coro = cli_chat.send_command(data, text, args.conversation, args.json)
            return cli_chat.run_chat_command(coro, data)
        if args.command in ("history", "list", "export", "import", "delete"):
            from backend.cli import conversations as c

            store_commands = {
                "history": lambda: c.history_command(data, args.conversation, args.last),
                "list": lambda: c.list_command(data, args.search, args.json),
                "export": lambda: c.export_command(
                    data, args.conversation, args.format, args.output
                ),
                "import": lambda: c.import_command(data, args.path),
                "delete": lambda: c.delete_command(data, args.conversation),
            }
            return c.run_store_command(store_commands[args.command], data)
        if args.command == "doctor":
            from backend.cli.doctor import run_doctor

            return run_doctor(data)
        build_parser().print_help()
        return 0
    except SettingsError as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # A data dir that cannot be created or written, a full disk: say it, no traceback.
        where = data or DataDir.resolve(None)
        print(f"durachat: {where.explain(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
