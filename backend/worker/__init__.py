"""The Temporal worker process (``python -m backend.worker``)."""
