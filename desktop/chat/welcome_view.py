"""What the transcript area shows with no conversation open.

One line on what DuraChat is, example prompts the demo model answers well (each shows
off something: a tool call, a streamed code block, reasoning), and while the demo model
is the provider, a way to connect a real one; the demo answers meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.style.fonts import set_sized_font, sized
from desktop.style.icons import icon
from desktop.style.scheme import tokens_for
from desktop.style.tokens import RADII, SPACING, TYPE
from resources import icon_path

MAX_WIDTH = 640
APP_ICON_SIZE = 56
CARD_HEIGHT = 76
DESCRIPTION = "Chat with AI models. Every conversation survives crashes and restarts."


@dataclass(frozen=True)
class ExamplePrompt:
    title: str  # what it shows off
    prompt: str  # sent as the user's message, so it must read as one
    icon: str  # a Lucide icon name (resources/icons)


# Each is answered by the offline demo model (backend/demo_model/script.py): the first
# two call a tool, the third streams a fenced code block, the fourth reasons first.
EXAMPLES: tuple[ExamplePrompt, ...] = (
    ExamplePrompt("Exact math with a tool", "What is 2**64 - 1, exactly?", "wrench"),
    ExamplePrompt("Ask the clock", "What's the date today?", "clock"),
    ExamplePrompt(
        "Stream some code", "Write Python code that prints the first ten Fibonacci numbers", "code"
    ),
    ExamplePrompt("Watch it reason", "Think it through: should I learn Rust or Go first?", "brain"),
)


class PromptCard(QAbstractButton):
    """A clickable card: what the example shows off, and the prompt itself."""

    def __init__(self, example: ExamplePrompt, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.example = example
        self.setText(example.prompt)
        self.setToolTip(f"Send “{example.prompt}”")
        self.setAccessibleName(example.prompt)
        self.setAccessibleDescription(f"Example prompt: {example.title}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.icon_image: QIcon | None = None

    def sizeHint(self) -> QSize:
        return QSize(240, CARD_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = tokens_for(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        hovered = self.underMouse() or self.isDown()
        fill = QColor(colors.accent_soft if self.isDown() else colors.raised)
        painter.setBrush(fill)
        border = QColor(colors.accent if hovered else colors.border)
        painter.setPen(QPen(border, 1))
        painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), RADII.md, RADII.md)
        if self.hasFocus():
            painter.setPen(QPen(QColor(colors.focus), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, RADII.md, RADII.md)

        inner = self.rect().adjusted(SPACING.lg, SPACING.md, -SPACING.lg, -SPACING.md)
        left = inner.left()
        if self.icon_image is not None:
            self.icon_image.paint(painter, left, inner.top() + 1, 16, 16)
            left += 16 + SPACING.sm
        title_font = sized(self.font(), TYPE.small, TYPE.weight_bold)
        painter.setFont(title_font)
        painter.setPen(QColor(colors.text))
        title_height = QFontMetrics(title_font).height()
        title_box = inner.adjusted(left - inner.left(), 0, 0, 0)
        title_box.setHeight(title_height)
        painter.drawText(title_box, Qt.AlignmentFlag.AlignLeft, self.example.title)

        prompt_font = sized(self.font(), TYPE.small)
        painter.setFont(prompt_font)
        painter.setPen(QColor(colors.text_muted))
        prompt_box = inner.adjusted(0, title_height + SPACING.xs, 0, 0)
        metrics = QFontMetrics(prompt_font)
        lines = wrap_lines(metrics, self.example.prompt, prompt_box.width(), max_lines=2)
        painter.drawText(prompt_box, Qt.AlignmentFlag.AlignLeft, "\n".join(lines))


def wrap_lines(metrics: QFontMetrics, text: str, width: int, max_lines: int) -> list[str]:
    """Word-wrap to at most ``max_lines``, the last elided: a card keeps its height."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words:
        rest = " ".join([lines.pop(), *words])
        lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return lines


class DemoNotice(QFrame):
    """A quiet panel: the demo model is answering; connect a real provider here."""

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = tokens_for(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        edge = QColor(colors.accent)
        edge.setAlphaF(0.25)
        fill = QColor(colors.accent_soft)
        fill.setAlphaF(0.6)
        painter.setPen(QPen(edge, 1))
        painter.setBrush(fill)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.drawRoundedRect(box, RADII.md, RADII.md)


class WelcomeView(QWidget):
    prompt_chosen = Signal(str)
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeView")
        column = QWidget()
        column.setMaximumWidth(MAX_WIDTH)
        body = QVBoxLayout(column)
        body.setContentsMargins(SPACING.xl, SPACING.xl, SPACING.xl, SPACING.xl)
        body.setSpacing(0)

        self.app_icon = QLabel()
        self.app_icon.setPixmap(
            QIcon(str(icon_path())).pixmap(
                QSize(APP_ICON_SIZE, APP_ICON_SIZE), self.devicePixelRatioF()
            )
        )
        self.app_icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.app_icon.setAccessibleName("DuraChat")
        self.heading = QLabel("Welcome to DuraChat")
        set_sized_font(self.heading, TYPE.display, TYPE.weight_bold)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.description = QLabel(DESCRIPTION)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        set_sized_font(self.description, TYPE.body)
        body.addWidget(self.app_icon)
        body.addSpacing(SPACING.lg)
        body.addWidget(self.heading)
        body.addSpacing(SPACING.sm)
        body.addWidget(self.description)
        body.addSpacing(SPACING.xxl)

        self.try_label = QLabel("Try one of these")
        set_sized_font(self.try_label, TYPE.caption, TYPE.weight_bold)
        body.addWidget(self.try_label)
        body.addSpacing(SPACING.sm)
        grid = QGridLayout()
        grid.setSpacing(SPACING.md)
        self.cards: list[PromptCard] = []
        for position, example in enumerate(EXAMPLES):
            card = PromptCard(example)
            card.clicked.connect(lambda _c=False, p=example.prompt: self.prompt_chosen.emit(p))
            grid.addWidget(card, position // 2, position % 2)
            self.cards.append(card)
        body.addLayout(grid)
        body.addSpacing(SPACING.xl)

        self.demo_notice = DemoNotice()
        notice = QHBoxLayout(self.demo_notice)
        notice.setContentsMargins(SPACING.lg, SPACING.md, SPACING.md, SPACING.md)
        notice.setSpacing(SPACING.lg)
        self.demo_text = QLabel(
            "<b>You're using the offline demo model.</b> It answers right away, no API "
            "key needed. Connect OpenAI, Ollama, LM Studio or any OpenAI-compatible "
            "server for real answers."
        )
        self.demo_text.setWordWrap(True)
        set_sized_font(self.demo_text, TYPE.small)
        self.connect_button = QPushButton("Connect a provider")
        self.connect_button.setProperty("variant", "primary")  # the style sheet's accent
        self.connect_button.setAccessibleName("Connect a provider")
        self.connect_button.setToolTip("Open Settings to choose a provider and model")
        self.connect_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.connect_button.clicked.connect(self.settings_requested)
        notice.addWidget(self.demo_text, 1)
        notice.addWidget(self.connect_button, 0, Qt.AlignmentFlag.AlignVCenter)
        body.addWidget(self.demo_notice)

        self.model_line = QLabel()
        self.model_line.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        set_sized_font(self.model_line, TYPE.caption)
        body.addWidget(self.model_line)

        centered = QHBoxLayout()
        centered.addStretch(1)
        centered.addWidget(column, 100)
        centered.addStretch(1)
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.addStretch(1)
        page_layout.addLayout(centered)
        page_layout.addStretch(2)  # a little above the middle reads as centred
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.viewport().setAutoFillBackground(False)
        page.setAutoFillBackground(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._recolor()
        self.set_provider("demo", None)

    def set_provider(self, provider_name: str, model: str | None) -> None:
        """The demo notice shows only while the demo model is the provider."""
        demo = provider_name == "demo"
        self.demo_notice.setVisible(demo)
        self.model_line.setVisible(not demo)
        self.model_line.setText(f"Chatting with {model or provider_name}" if not demo else "")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed
            self._recolor()

    def paintEvent(self, event: QPaintEvent) -> None:
        # The page the transcript will be: the same surface, so opening a
        # conversation does not flash another colour.
        QPainter(self).fillRect(self.rect(), QColor(tokens_for(self.palette()).surface))

    def _recolor(self) -> None:
        colors = tokens_for(self.palette())
        for card in self.cards:
            card.icon_image = icon(card.example.icon, colors.accent)
            card.update()
        muted = colors.text_muted
        for label in (self.description, self.try_label, self.model_line):
            label.setStyleSheet(f"color: {muted};")
