"""Temporal workflows. Imported by the workflow sandbox: no side effects at import time."""
