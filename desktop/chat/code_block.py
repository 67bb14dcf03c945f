"""One fenced code block of a reply: highlighted, with its language, Wrap and Copy.

Long lines scroll sideways inside the block until Wrap is on. The block paints its own
background (the tokens' ``code_bg``) and picks the highlighting for its palette, light
or dark, so a theme switch recolours it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.code_highlight import colours, highlight_lines, pre
from desktop.chat.icon_widgets import COPIED_MS, tint
from desktop.chat.reply_segments import Segment
from desktop.chat.text_block import TextBlock
from desktop.style.icons import icon
from desktop.style.scheme import scheme_for, tokens_for
from desktop.style.tokens import RADII, SPACING

HEADER_HEIGHT = 32


def palette_is_dark(palette: QPalette) -> bool:
    return scheme_for(palette) == "dark"


def _header_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setObjectName("codeAction")
    button.setText(text)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setIconSize(QSize(14, 14))
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return button


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
        self.language_label.setObjectName("codeLanguage")
        self.wrap_button = _header_button("Wrap", "Wrap long lines")
        self.wrap_button.setCheckable(True)
        self.wrap_button.toggled.connect(self.set_wrap)
        self.copy_button = _header_button("Copy", "Copy the code")
        self.copy_button.clicked.connect(self.copy)
        self.copied = False
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_MS)
        self._copied.timeout.connect(self._show_copy)
        header = QHBoxLayout()
        header.setContentsMargins(SPACING.md, 0, SPACING.xs + 2, 0)
        header.setSpacing(SPACING.xs)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.wrap_button)
        header.addWidget(self.copy_button)
        header_box = QWidget()
        header_box.setFixedHeight(HEADER_HEIGHT)
        header_box.setLayout(header)

        self.view = TextBlock()
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.view.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
        # As tall as its header and code, never stretched by the layout around it.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, SPACING.sm + 2)
        layout.setSpacing(0)
        layout.addWidget(header_box)
        body = QHBoxLayout()
        body.setContentsMargins(SPACING.md, SPACING.sm + 2, SPACING.md, 0)
        body.addWidget(self.view)
        layout.addLayout(body)
        self._retint()

    @property
    def wrapped(self) -> bool:
        return self.view.lineWrapMode() != QTextEdit.LineWrapMode.NoWrap

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines, or (off) keep them whole and scroll sideways."""
        if self.wrap_button.isChecked() != wrap:
            self.wrap_button.setChecked(wrap)  # comes back here through toggled
            return
        self.view.setLineWrapMode(
            QTextEdit.LineWrapMode.WidgetWidth if wrap else QTextEdit.LineWrapMode.NoWrap
        )

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
        self.copied = True
        self.copy_button.setText("Copied")
        self._retint()
        self._copied.start()

    def _show_copy(self) -> None:
        self.copied = False
        self.copy_button.setText("Copy")
        self._retint()

    def _retint(self) -> None:
        colors = tokens_for(self.palette())
        self.wrap_button.setIcon(icon("text-wrap", colors.text_muted))
        self.copy_button.setIcon(
            icon("check", colors.success) if self.copied else icon("copy", colors.text_muted)
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A light/dark switch: recolour for the new palette.
        if event.type() == QEvent.Type.PaletteChange:
            self._retint()
            if self.code:
                self._render()

    def paintEvent(self, event: QPaintEvent) -> None:
        # Painted, not style-sheeted: a style sheet would pin our palette to the code's
        # colours and hide the window's own light/dark switches from us.
        dark = palette_is_dark(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor(tint(self, "border"))
        painter.setPen(border)
        painter.setBrush(QColor(colours(dark).background))
        painter.drawRoundedRect(
            QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), RADII.md, RADII.md
        )
        painter.drawLine(1, HEADER_HEIGHT, self.width() - 2, HEADER_HEIGHT)

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
            palette = self.view.palette()
            palette.setColor(QPalette.ColorRole.Text, QColor(colours(dark).foreground))
            self.view.setPalette(palette)
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
