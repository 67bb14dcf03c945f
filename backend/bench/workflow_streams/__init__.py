"""Temporal's own streaming path for ``durachat bench``: ``Runner.run_streamed`` under the
OpenAI Agents plugin, raw model events on a Workflow Streams topic, in a worker of its own."""
