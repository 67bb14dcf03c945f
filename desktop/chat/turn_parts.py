"""The pieces a turn is drawn from, apart from the reply and tool cards: the context
divider, the user's bubble, the assistant's role mark, the reasoning toggle, the error.

Colours come from the style sheet by object name; icons from ``icon_widgets``.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionToolButton,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.icon_widgets import IconLabel, tint
from desktop.chat.text_block import TextBlock
from desktop.style.icons import icon
from desktop.style.tokens import SPACING

CONTEXT_NOTE = "The model's context starts here: the messages above are kept, not sent to it"
BUBBLE_PAD_X = SPACING.md + 2
BUBBLE_PAD_Y = SPACING.sm + 2


class ContextMarker(QWidget):
    """A thin divider with a note in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contextMarker")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, SPACING.sm, 0, SPACING.md)
        row.setSpacing(SPACING.md)
        self.label = QLabel(CONTEXT_NOTE)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for stretch, part in ((1, _rule()), (0, self.label), (1, _rule())):
            row.addWidget(part, stretch)

    def text(self) -> str:
        return self.label.text()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # One line when it fits; wrapped (and the rules short) when it does not.
        natural = self.label.fontMetrics().horizontalAdvance(self.label.text()) + 2
        room = event.size().width() - 2 * (SPACING.xl + SPACING.md)
        width = max(0, min(natural, room))
        if self.label.minimumWidth() != width:
            self.label.setMinimumWidth(width)


def _rule() -> QFrame:
    rule = QFrame()
    rule.setObjectName("contextRule")
    rule.setFixedHeight(1)
    rule.setMinimumWidth(SPACING.xl)
    return rule


class UserText(QLabel):
    """The user's message, as typed (plain text), selectable. A label, not a text block:
    a message is written once, never streamed, and a label is a single widget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userMessage")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        self._natural: tuple[str, str, float] | None = None  # text, font, width

    def set_plain(self, text: str) -> None:
        if text != self.text():
            self.setText(text)

    def natural_width(self) -> float:
        """The width of its longest line, unwrapped (cached per text and font)."""
        text, font = self.text(), self.font().key()
        if self._natural is None or self._natural[:2] != (text, font):
            metrics = QFontMetricsF(self.font())
            widest = max(
                (
                    metrics.horizontalAdvance(line.replace("\t", "    "))
                    for line in text.split("\n")
                ),
                default=0.0,
            )
            self._natural = (text, font, widest)
        return self._natural[2]


class UserBubble(QFrame):
    """The user's message in a rounded bubble as wide as its text, at most ``max_width``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userBubble")
        self.text = UserText()
        box = QVBoxLayout(self)
        box.setContentsMargins(BUBBLE_PAD_X, BUBBLE_PAD_Y, BUBBLE_PAD_X, BUBBLE_PAD_Y)
        box.addWidget(self.text)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.max_width = 0
        self.text.installEventFilter(self)  # its font arrives with the style sheet

    def fit(self, max_width: int) -> None:
        self.max_width = max_width
        self.text.ensurePolished()
        # A little slack: the document lays text out in fractional pixels.
        inner = math.ceil(self.text.natural_width()) + 4
        width = min(inner + 2 * BUBBLE_PAD_X, max(max_width, 2 * BUBBLE_PAD_X + 40))
        if self.width() != width or self.minimumWidth() != width:
            self.setFixedWidth(width)

    def eventFilter(self, watched: object, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and self.max_width:
            self.fit(self.max_width)
        return False


class RoleMark(QWidget):
    """The assistant's mark above its reply: an icon and a name, muted."""

    def __init__(self, name: str = "Assistant", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(SPACING.sm - 2)
        self.icon = IconLabel("sparkles", "assistant_mark", 16)
        self.label = QLabel(name)
        self.label.setObjectName("roleMark")
        row.addWidget(self.icon)
        row.addWidget(self.label)
        row.addStretch(1)

    def set_name(self, name: str) -> None:
        if self.label.text() != name:
            self.label.setText(name)


class ReasoningToggle(QToolButton):
    """Shows or hides the reasoning: brain icon, a label, and a chevron that points
    the way ``arrowType()`` says (down: shown, right: hidden)."""

    ICON = 14
    GAP = SPACING.sm - 2
    PAD_LEFT, PAD_RIGHT = 6, 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reasoningToggle")
        self.setCheckable(True)
        self.setChecked(True)
        self.setArrowType(Qt.ArrowType.DownArrow)
        self.setText("Reasoning")
        self.setAccessibleName("Reasoning: show or hide")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.toggled.connect(self._point)

    def _point(self, expanded: bool) -> None:
        self.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)

    def sizeHint(self) -> QSize:
        text = self.fontMetrics().horizontalAdvance(self.text())
        width = self.PAD_LEFT + self.ICON + self.GAP + text + self.GAP + self.ICON + self.PAD_RIGHT
        return QSize(width, max(self.fontMetrics().height(), self.ICON) + 10)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionToolButton()
        self.initStyleOption(option)
        # The panel only (hover, focus ring): no checked look, it is a disclosure.
        option.text = ""
        option.state &= ~QStyle.StateFlag.State_On
        option.features &= ~QStyleOptionToolButton.ToolButtonFeature.Arrow
        option.arrowType = Qt.ArrowType.NoArrow
        painter.drawComplexControl(QStyle.ComplexControl.CC_ToolButton, option)
        role = "text" if self.underMouse() else "text_muted"
        color = tint(self, role)
        top = (self.height() - self.ICON) // 2
        x = self.PAD_LEFT
        icon("brain", color).paint(painter, QRect(x, top, self.ICON, self.ICON))
        x += self.ICON + self.GAP
        text_width = self.fontMetrics().horizontalAdvance(self.text())
        painter.setPen(QColor(color))
        painter.drawText(
            QRect(x, 0, text_width + 1, self.height()), Qt.AlignmentFlag.AlignVCenter, self.text()
        )
        x += text_width + self.GAP
        chevron = "chevron-down" if self.arrowType() == Qt.ArrowType.DownArrow else "chevron-right"
        icon(chevron, color).paint(painter, QRect(x, top, self.ICON, self.ICON))

    def enterEvent(self, event: QEvent) -> None:
        super().enterEvent(event)
        self.update()

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.update()


class ReasoningSection(QWidget):
    """The toggle and, under it, the reasoning text, muted, behind a thin bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = ReasoningToggle()
        self.toggle.toggled.connect(self._show_text)
        self.box = QFrame()
        self.box.setObjectName("reasoningBox")
        self.text = TextBlock()
        self.text.setObjectName("reasoning")
        inset = QHBoxLayout(self.box)
        inset.setContentsMargins(SPACING.md, 0, 0, 0)
        inset.addWidget(self.text)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(SPACING.sm)
        column.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.box)

    def show_reasoning(self, text: str, thinking: bool) -> None:
        """``thinking``: the model is still reasoning (no reply yet)."""
        self.text.set_plain(text)
        label = "Thinking…" if thinking else "Reasoning"
        if self.toggle.text() != label:
            self.toggle.setText(label)
            self.toggle.updateGeometry()
        self._show_text(self.toggle.isChecked())

    def _show_text(self, expanded: bool) -> None:
        shown = expanded and not self.text.document().isEmpty()
        for part in (self.box, self.text):
            if part.isHidden() == shown:
                part.setVisible(shown)


class ErrorBox(QFrame):
    """A failed turn: alert icon, what went wrong and what to do, and Retry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("turnError")
        self.label = QLabel()
        self.label.setObjectName("errorText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setToolTip("Send this message again")
        self.retry_button.setAccessibleName("Retry")
        self.retry_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._alert = IconLabel("triangle-alert", "danger", 18)
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACING.md, SPACING.sm + 2, SPACING.sm + 2, SPACING.sm + 2)
        row.setSpacing(SPACING.md - 2)
        row.addWidget(self._alert, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        self._retint()

    def _retint(self) -> None:
        self.retry_button.setIcon(icon("rotate-ccw", tint(self, "text")))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._retint()
