"""The agent's tools. Each runs as a Temporal activity (see ``activities.py``)."""
