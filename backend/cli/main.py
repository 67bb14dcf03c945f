"""The ``durachat`` command line: ``serve``, ``doctor`` (more commands join here)."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import Any

from backend import __version__
from backend.local.paths import DATA_DIR_ENV, DataDir
from backend.local.settings import SettingsError


def _add_data_dir(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """``nested``: for a subcommand of a command that takes it too (``tools set``), so
    that ``tools --data-dir D set ...`` is not undone by the inner parser's default."""
    parser.add_argument(
        "--data-dir",
        metavar="D",
        default=argparse.SUPPRESS if nested else None,
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

    # The parts serve starts as child processes: the bundle has no python to run them
    # with "-m", so they are subcommands of its one executable.
    sub.add_parser("worker", help="(started by serve) the Temporal worker")
    sub.add_parser(
        "demo-model", help="(started by serve) the offline demo model: demo-model --help"
    )

    doctor = sub.add_parser("doctor", help="check binaries, ports, keyring and data dir")
    _add_data_dir(doctor)
    _add_tool_commands(sub)
    return parser


def _add_tool_commands(sub: Any) -> None:
    mcp = sub.add_parser("mcp", help="add, remove and list MCP servers (their tools join chats)")
    mcp_sub = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    add = mcp_sub.add_parser(
        "add",
        help="add a server: NAME -- COMMAND [ARGS...] (stdio) or NAME --url URL (HTTP)",
        usage="durachat mcp add NAME [--env K=V ...] -- COMMAND [ARGS...]\n"
        "       durachat mcp add NAME --url URL [--header K=V ...]",
    )
    _add_data_dir(add)
    add.add_argument("name", metavar="NAME")
    add.add_argument("--url", metavar="URL", help="a streamable HTTP server's address")
    add.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="an environment variable for the server; V may be keyring:SECRET",
    )
    add.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K=V",
        help="an HTTP header for the server; V may be keyring:SECRET",
    )
    add.add_argument(
        "--timeout", type=_call_seconds, metavar="S", help="how long one call may take (60)"
    )
    # What follows "--" is split off before parsing (see _split_command_line).
    add.add_argument("command_line", nargs="*", metavar="-- COMMAND [ARGS...]")
    remove = mcp_sub.add_parser("remove", help="remove a server")
    _add_data_dir(remove)
    remove.add_argument("name", metavar="NAME")
    listing = mcp_sub.add_parser("list", help="each server's status and tools")
    _add_data_dir(listing)
    listing.add_argument("--json", action="store_true")
    secret = mcp_sub.add_parser(
        "secret", help="store a secret in the keyring, for mcp.json to name as keyring:NAME"
    )
    _add_data_dir(secret)
    secret.add_argument("secret_name", metavar="NAME")

    tools = sub.add_parser("tools", help="every tool the agent may call, and its policy")
    _add_data_dir(tools)
    tools.add_argument("--json", action="store_true")
    tools_sub = tools.add_subparsers(dest="tools_command", metavar="ACTION")
    tools_set = tools_sub.add_parser("set", help="set a tool's policy: allow, ask or deny")
    _add_data_dir(tools_set, nested=True)
    tools_set.add_argument("tool_name", metavar="NAME")
    tools_set.add_argument("policy", choices=["allow", "ask", "deny"])

    approvals = sub.add_parser("approvals", help="tool calls waiting for your decision")
    _add_data_dir(approvals)
    approvals.add_argument("--json", action="store_true")
    approve = sub.add_parser("approve", help="let a waiting tool call run")
    _add_data_dir(approve)
    approve.add_argument("call_id", metavar="CALL_ID")
    approve.add_argument(
        "--always", action="store_true", help="and allow this tool from now on without asking"
    )
    deny = sub.add_parser("deny", help="refuse a waiting tool call (the model is told)")
    _add_data_dir(deny)
    deny.add_argument("call_id", metavar="CALL_ID")
    deny.add_argument("--reason", metavar="TEXT", help="why, for the model to read")


def _call_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"needs seconds from 0 to 3600, got {text!r}")
    return value


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


def _split_command_line(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``mcp add NAME [options] -- COMMAND [ARGS...]``: the server's command line is
    everything after the first "--", options of its own included."""
    if argv[:2] == ["mcp", "add"] and "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"] and len(argv) == 1:  # configured by its environment
        from backend.worker.main import main as worker_main

        return worker_main()
    if argv[:1] == ["demo-model"]:  # its own options
        from backend.demo_model.cli import main as demo_main

        return demo_main(argv[1:])
    argv, server_command = _split_command_line(argv)
    args = build_parser().parse_args(argv)
    if server_command is not None:
        args.command_line = server_command
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
        if args.command in ("mcp", "tools", "approvals"):
            return _tool_command(data, args)
        if args.command in ("approve", "deny"):
            from backend.cli import chat as cli_chat
            from backend.cli.tools import decide_command

            allow = args.command == "approve"
            coro = decide_command(
                data,
                args.call_id,
                allow,
                allow and args.always,
                None if allow else args.reason,
            )
            return cli_chat.run_chat_command(coro, data)
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


def _tool_command(data: DataDir, args: argparse.Namespace) -> int:
    """mcp, tools, approvals: files and the store; one line for anything wrong."""
    from backend.cli import tools as t
    from backend.client.errors import DuraChatError
    from backend.mcp.config import McpConfigError
    from backend.mcp.secrets import SecretUnavailable

    try:
        if args.command == "mcp":
            if args.mcp_command == "add":
                return t.mcp_add(
                    data,
                    args.name,
                    list(args.command_line),
                    args.url,
                    args.env,
                    args.header,
                    args.timeout,
                )
            if args.mcp_command == "remove":
                return t.mcp_remove(data, args.name)
            if args.mcp_command == "secret":
                return t.mcp_secret(args.secret_name)
            return t.mcp_list(data, args.json)
        if args.command == "tools":
            if args.tools_command == "set":
                return t.tools_set(data, args.tool_name, args.policy)
            return t.tools_list(data, args.json)
        return t.approvals_list(data, args.json)
    except (DuraChatError, McpConfigError, SecretUnavailable) as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
