"""DuraChat's backend: everything that runs without Qt.

The window (``desktop``) and the command line both reach it only through the
small async client API; nothing here imports Qt.
"""

__version__ = "0.1.0"
