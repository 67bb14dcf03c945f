"""The live event stream: one Redis stream per conversation."""
