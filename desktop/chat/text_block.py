"""A read-only rich text block exactly as tall as its text, for inside the transcript.

A word-wrapped QLabel lays its text out several times per relayout (size hint, minimum
size hint, height for width, paint): with a long reply that cost ~30 ms a frame and froze
the window. A QTextBrowser lays its document out once per change (appends only touch the
last paragraph), and selection, links and copying come with it. The transcript scrolls;
the block never does: its height follows its document.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSizeF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget


class TextBlock(QTextBrowser):
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
        self._fit(self.document().size())

    def _fit(self, size: QSizeF) -> None:
        height = math.ceil(size.height()) + 2 * self.frameWidth()
        if (self.minimumHeight(), self.maximumHeight()) != (height, height):
            self.setFixedHeight(height)

    def set_plain(self, text: str) -> None:
        """Plain text; a streamed extension of the current text is appended, not relaid."""
        if text == self._plain:
            return
        if self._plain and text.startswith(self._plain):
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text[len(self._plain) :])
        else:
            self.setPlainText(text)
        self._plain = text

    def set_markdown(self, text: str) -> None:
        self._plain = ""
        self.setMarkdown(text)

    def set_html(self, html: str) -> None:
        self._plain = ""
        self.setHtml(html)

    def replace_blocks_from(self, index: int, html: str) -> bool:
        """Replace the paragraphs (for code: lines) from ``index`` on with ``html``, keeping
        those before it untouched. False, changing nothing, if there is no such paragraph."""
        document = self.document()
        if not 0 < index <= document.blockCount():
            return False
        self._plain = ""
        before = document.findBlockByNumber(index - 1)
        cursor = QTextCursor(document)
        cursor.setPosition(before.position() + before.length() - 1)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # HTML inserted at the end of a paragraph would join it: start a new one first.
        cursor.insertBlock()
        cursor.insertHtml(html)
        return True


SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def _open_link(url: QUrl) -> None:
    # Model output is untrusted: a file: or custom-scheme link could open anything.
    if url.scheme().lower() in SAFE_SCHEMES:
        QDesktopServices.openUrl(url)
