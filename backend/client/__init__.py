"""What the window and the CLI use: the client API, its store of conversations, the outbox."""
