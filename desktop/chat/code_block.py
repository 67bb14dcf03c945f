"""One fenced code block of a reply: highlighted, with its language and a Copy button."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.chat.code_highlight import colours, highlight_lines, pre
from desktop.chat.reply_segments import Segment
from desktop.chat.text_block import TextBlock

COPIED_MS = 1500


def palette_is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class CodeBlock(QFrame):
    kind = "code"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.code = ""
        self.language = ""
        # Characters handed to pygments so far: what streaming a long block costs
        # grows with what arrived, not with the block's length (tests read it).
        self.highlighted_chars = 0
        self.closed = True
        self._dark: bool | None = None  # the palette the colours were made for
        self._resumable: list[bool] = []  # per line shown: lexing may start over there

        self.language_label = QLabel()
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the code")
        self.copy_button.setAutoRaise(True)
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.clicked.connect(self.copy)
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_MS)
        self._copied.timeout.connect(lambda: self.copy_button.setText("Copy"))
        header = QHBoxLayout()
        header.setContentsMargins(8, 2, 2, 0)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)

        self.view = TextBlock()
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(0)
        layout.addLayout(header)
        body = QHBoxLayout()
        body.setContentsMargins(8, 0, 8, 0)
        body.addWidget(self.view)
        layout.addLayout(body)

    def show_segment(self, segment: Segment) -> None:
        self.closed = segment.closed
        if (segment.text, segment.language) == (self.code, self.language):
            return
        previous = self.code if segment.language == self.language else None
        if segment.language != self.language or not self.language_label.text():
            self.language_label.setText(segment.language or "code")
        self.code, self.language = segment.text, segment.language
        self._render(previous)

    def visible_text(self) -> str:
        return self.view.toPlainText()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText("Copied")
        self._copied.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A light/dark switch of the system theme: recolour for the new palette.
        if event.type() == QEvent.Type.PaletteChange and self.code:
            self._render()

    def paintEvent(self, event: QPaintEvent) -> None:
        # Painted, not style-sheeted: a style sheet would pin our palette to the code's
        # colours and hide the window's own light/dark switches from us.
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colours(self._dark is True).background))
        painter.drawRoundedRect(QRectF(self.rect()), 6, 6)

    def _render(self, previous: str | None = None) -> None:
        """Highlight the code; with the ``previous`` code it extends (a stream), only from
        the line where the change begins, or the nearest line above where lexing can
        start over, so a long block costs per frame only what arrived in it."""
        dark = palette_is_dark(self.palette())
        if previous is not None and dark == self._dark and self.code.startswith(previous):
            start = _restart_line(self._resumable, previous.count("\n"))
            if start > 0:
                offset = _line_offset(self.code, start)
                tail = highlight_lines(self.code[offset:], self.language, dark)
                self.highlighted_chars += len(self.code) - offset
                if self.view.replace_blocks_from(start, pre(tail.html)):
                    self._resumable = self._resumable[:start] + tail.resumable
                    # One paragraph per line, or the next update would edit the wrong one.
                    if self.view.document().blockCount() == len(self._resumable):
                        return
        if dark != self._dark:
            self._dark = dark
            foreground = QColor(colours(dark).foreground)
            for widget, role in (
                (self.language_label, QPalette.ColorRole.WindowText),
                (self.copy_button, QPalette.ColorRole.ButtonText),
                (self.view, QPalette.ColorRole.Text),
            ):
                palette = widget.palette()
                palette.setColor(role, foreground)
                widget.setPalette(palette)
            self.update()
        highlighted = highlight_lines(self.code, self.language, dark)
        self.highlighted_chars += len(self.code)
        self.view.set_html(pre(highlighted.html))
        self._resumable = highlighted.resumable


def _restart_line(resumable: list[bool], changed: int) -> int:
    """The last line at or above ``changed`` where lexing may start over (0: the top)."""
    for line in range(min(changed, len(resumable) - 1), 0, -1):
        if resumable[line]:
            return line
    return 0


def _line_offset(code: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = code.index("\n", offset) + 1
    return offset
