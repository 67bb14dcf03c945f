"""The bundle's entry point: ``durachat`` opens the window, ``durachat COMMAND`` the CLI."""

from backend.local.bundle import restore_library_path

# Before anything can start a child process.
restore_library_path()

from desktop.launcher import main  # noqa: E402  (after the environment is mended)

raise SystemExit(main())
