class ToolError(Exception):
    """A failure the model (and the user) should see as the tool's result, not a crash."""
