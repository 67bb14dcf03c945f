"""Every keyboard shortcut in one table, and the sheet that lists them (Ctrl+/)."""
