"""Local files: where the data dir is, settings, API keys, runtime info, logs."""
