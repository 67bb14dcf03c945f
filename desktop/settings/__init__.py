"""The Settings dialog and theme switching."""
