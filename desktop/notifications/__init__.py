"""Desktop notifications: a reply that finished (or failed) while the window was not
focused; a click opens its conversation."""
