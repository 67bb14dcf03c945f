"""Icons, stylesheets and the .desktop file, shipped as package data."""
