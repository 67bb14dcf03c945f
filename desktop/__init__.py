"""DuraChat's PySide6 window. All Qt lives under this package."""
