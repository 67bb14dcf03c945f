"""The window's status bar: a status line with Retry, the last reply's token usage, the
model in use, and the backend's parts lit as they serve."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar

from desktop.chat.transcript_model import TranscriptModel


class StatusBarParts:
    """The labels and the Retry button, laid out on ``bar``."""

    def __init__(self, bar: QStatusBar, first_line: str) -> None:
        self.status_label = QLabel(first_line)
        self.retry_button = QPushButton("Retry")
        self.retry_button.hide()  # only after a failure to start or connect
        self.health_label = QLabel()
        self.health_label.setToolTip("Backend parts: ● serving, ○ down or restarting")
        self.model_label = QLabel()
        self.usage_label = QLabel()
        self.usage_label.setToolTip("Tokens of the last finished reply: prompt → reply")
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.retry_button)
        for label in (self.usage_label, self.model_label, self.health_label):
            bar.addPermanentWidget(label)

    def show_failure(self, message: str) -> None:
        """Said in full in the tooltip too: it names the logs, and can be long."""
        self.status_label.setText(message)
        self.status_label.setToolTip(message)
        self.retry_button.show()

    def show_health(self, parts: dict[str, bool], external: bool, connected: bool) -> None:
        """``parts``: of the backend started here; ``external``: started by another
        process (``durachat serve``), whose parts this one does not watch."""
        if external:
            self.health_label.setText("backend: external" if connected else "")
            return
        self.health_label.setText(
            "  ".join(f"{'●' if ok else '○'} {name}" for name, ok in parts.items())
        )

    def show_usage(self, model: TranscriptModel) -> None:
        last = next((t for t in reversed(model.turns.values()) if t.status == "done"), None)
        if last is None or not (last.input_tokens or last.output_tokens):
            self.usage_label.setText("")
            return
        self.usage_label.setText(
            f"last reply: {last.input_tokens:,} → {last.output_tokens:,} tokens"
        )
