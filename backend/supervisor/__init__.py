"""The process supervisor: owns the Temporal dev server, Redis and the worker."""
