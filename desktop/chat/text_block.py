"""A read-only rich text block exactly as tall as its text, for inside the transcript.

A word-wrapped QLabel lays its text out several times per relayout (size hint, minimum
size hint, height for width, paint): with a long reply that cost ~30 ms a frame and froze
the window. A QTextBrowser lays its document out once per change (appends only touch the
last paragraph), and selection, links and copying come with it. The transcript scrolls;
the block never does vertically: its height follows its document (a code block that
does not wrap scrolls sideways, and is that much taller for its scroll bar).

Markdown is imported by Qt and dressed in the design tokens (``markdown_look``); the
block paints the quote bars and rules the dressing asks for, and dresses again in the
other scheme's colours when the palette turns light or dark.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QTextEdit, QWidget

from desktop.chat.markdown_look import (
    QUOTE_INDENT,
    RULE_HEIGHT,
    Decoration,
    set_dressed_markdown,
)
from desktop.style.scheme import scheme_for, tokens_for

QUOTE_BAR = 3  # px


class TextBlock(QTextBrowser):
    # Events arrive while the base class is being set up: their handlers see this first.
    _markdown: str | None = None  # the Markdown shown, if the text is Markdown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Like a selectable label: focus on click (to copy), never a stop for Tab.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Drawn on the turn's own background, like a label.
        self.viewport().setAutoFillBackground(False)
        # Links open in the browser; an anchor must never replace the block's own text.
        self.setOpenLinks(False)
        self.anchorClicked.connect(_open_link)
        self.document().setDocumentMargin(1)
        # Streamed edits would otherwise pile up as undo steps no one can take.
        self.document().setUndoRedoEnabled(False)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._plain = ""
        self._scheme = scheme_for(self.palette())  # the colours it was dressed in
        self._decorations: list[Decoration] = []
        self._document: QTextDocument | None = None  # a document swapped in, once one is
        self._fit(self.document().size())

    def _fit(self, size: QSizeF) -> None:
        height = math.ceil(size.height()) + 2 * self.frameWidth()
        if (
            self.lineWrapMode() == QTextEdit.LineWrapMode.NoWrap
            and size.width() > self.viewport().width()
        ):
            height += self.horizontalScrollBar().sizeHint().height()
        if (self.minimumHeight(), self.maximumHeight()) != (height, height):
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.lineWrapMode() == QTextEdit.LineWrapMode.NoWrap:
            self._fit(self.document().size())  # the scroll bar comes and goes with width

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if self._markdown is None:
            return
        if event.type() == QEvent.Type.PaletteChange:
            scheme = scheme_for(self.palette())
            if scheme != self._scheme:
                self._scheme = scheme
                self._show_markdown(self._markdown)
        elif event.type() == QEvent.Type.FontChange:
            self._show_markdown(self._markdown)  # headings are sized from the body text

    def set_plain(self, text: str) -> None:
        """Plain text; a streamed extension of the current text is appended, not relaid."""
        if text == self._plain:
            return
        self._markdown = None
        self._decorations = []
        if self._plain and text.startswith(self._plain):
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text[len(self._plain) :])
        else:
            self.setPlainText(text)
        self._plain = text

    def set_markdown(self, text: str) -> None:
        self._plain = ""
        self._show_markdown(text)

    def _show_markdown(self, text: str) -> None:
        # Imported and dressed in a document of its own, then swapped in: laid out once,
        # not once on import and again for the dressing.
        self.ensurePolished()  # the style sheet's font, before the text is sized by it
        self._markdown = text
        shown = self.document()
        # Parented to the block: a document without a parent outlived the block (the
        # edit never deletes a document it was given), a leak per reply shown.
        document = QTextDocument(self)
        document.setDefaultFont(self.font())
        document.setDocumentMargin(shown.documentMargin())
        document.setUndoRedoEnabled(False)
        self._decorations = set_dressed_markdown(document, text, tokens_for(self.palette()))
        self.setDocument(document)
        if self._document is not None:
            self._document.deleteLater()  # the one it replaces, no longer shown
        self._document = document
        document.documentLayout().documentSizeChanged.connect(self._fit)
        self._fit(document.size())

    def set_html(self, html: str) -> None:
        self._plain = ""
        self._markdown = None
        self._decorations = []
        self.setHtml(html)

    def replace_blocks_from(self, index: int, html: str) -> bool:
        """Replace the paragraphs (for code: lines) from ``index`` on with ``html``, keeping
        those before it untouched. False, changing nothing, if there is no such paragraph."""
        document = self.document()
        if not 0 < index <= document.blockCount():
            return False
        self._plain = ""
        self._markdown = None
        before = document.findBlockByNumber(index - 1)
        cursor = QTextCursor(document)
        cursor.setPosition(before.position() + before.length() - 1)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # HTML inserted at the end of a paragraph would join it: start a new one first.
        cursor.insertBlock()
        cursor.insertHtml(html)
        return True

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._decorations:
            self._paint_decorations()

    def _paint_decorations(self) -> None:
        colors = tokens_for(self.palette())
        layout = self.document().documentLayout()
        dx = -self.horizontalScrollBar().value()
        painter = QPainter(self.viewport())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colors.border))
        for decoration in self._decorations:
            if not decoration.block.isValid():
                continue
            rect = layout.blockBoundingRect(decoration.block).translated(dx, 0)
            if decoration.kind == "quote":
                x = rect.left() + (decoration.level - 1) * QUOTE_INDENT + 2
                painter.drawRoundedRect(QRectF(x, rect.top(), QUOTE_BAR, rect.height()), 1, 1)
            else:
                y = rect.top() + RULE_HEIGHT // 2
                painter.drawRect(QRectF(rect.left(), y, rect.width(), 1))
        painter.end()


SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def _open_link(url: QUrl) -> None:
    # Model output is untrusted: a file: or custom-scheme link could open anything.
    if url.scheme().lower() in SAFE_SCHEMES:
        QDesktopServices.openUrl(url)
