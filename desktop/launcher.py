"""The ``durachat`` command: the window with no arguments, the CLI otherwise.

Lives under ``desktop`` because it may open the window; the CLI itself
(``backend.cli.main``) never imports Qt.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or (args[0] == "--data-dir" and len(args) == 2):
        # Before Qt is imported: a platform plugin that cannot load, or no display,
        # makes Qt abort the process without saying what to install.
        from backend.local.qt_platform import check_window_platform

        if problem := check_window_platform().problem:
            print(f"durachat: {problem}", file=sys.stderr)
            return 1
        from desktop.app import main as window_main

        return window_main(data_dir=args[1] if args else None, argv=sys.argv[:1])
    from backend.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
