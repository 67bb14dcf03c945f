"""MCP servers: the user's configuration, the keyring secrets it names, starting a
server in the worker, and each server's status and tools as last seen."""
