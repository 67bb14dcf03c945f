"""Model providers: OpenAI, OpenAI-compatible servers and the demo model, streaming live."""
