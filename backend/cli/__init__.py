"""The ``durachat`` command line; ``main`` is its entry point."""

from backend.cli.main import main

__all__ = ["main"]
