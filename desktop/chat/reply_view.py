"""A reply on screen: its prose as Markdown, each fenced code block as a CodeBlock.

Streaming only ever changes the end of a reply, so each update re-splits the text from
the start of its last segment and re-renders only the segments that changed: the widgets
of finished paragraphs and code blocks stay as they are, however long the reply grows.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.chat.code_block import CodeBlock
from desktop.chat.reply_segments import Segment, split_reply
from desktop.chat.text_block import TextBlock
from desktop.style.tokens import SPACING


class ProseBlock(TextBlock):
    kind = "prose"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prose")
        self.markdown = ""

    def show_segment(self, segment: Segment) -> None:
        # Trailing blank lines before a code block are spacing, not text.
        markdown = segment.text.rstrip()
        if markdown != self.markdown:
            self.markdown = markdown
            self.set_markdown(markdown)

    def visible_text(self) -> str:
        return self.toPlainText()


Block = ProseBlock | CodeBlock


class ReplyView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(SPACING.md)
        self.markdown = ""
        self.segments: list[Segment] = []
        self.blocks: list[Block] = []

    def set_markdown(self, text: str) -> None:
        if text == self.markdown:
            return
        resume = self.segments[-1].start if self.segments else 0
        if resume and text.startswith(self.markdown[:resume]):
            # Everything before the last segment is as it was: keep it, split the rest.
            kept = len(self.segments) - 1
            segments = self.segments[:kept] + split_reply(text, resume)
        else:
            kept, segments = 0, split_reply(text)
        self.markdown = text
        self._show(segments, kept)

    def _show(self, segments: list[Segment], kept: int) -> None:
        for index in range(kept, len(segments)):
            segment = segments[index]
            if index < len(self.blocks) and self.blocks[index].kind == segment.kind:
                if index >= len(self.segments) or self.segments[index] != segment:
                    self.blocks[index].show_segment(segment)
                continue
            block: Block = ProseBlock() if segment.kind == "prose" else CodeBlock()
            if index < len(self.blocks):
                self._layout.replaceWidget(self.blocks[index], block)
                _discard(self.blocks[index])
                self.blocks[index] = block
            else:
                self._layout.addWidget(block)
                self.blocks.append(block)
            block.show_segment(segment)
        for block in self.blocks[len(segments) :]:
            self._layout.removeWidget(block)
            _discard(block)
        del self.blocks[len(segments) :]
        self.segments = segments

    def text(self) -> str:
        """What the reader sees, as plain text."""
        return "\n".join(block.visible_text() for block in self.blocks)

    @property
    def code_blocks(self) -> list[CodeBlock]:
        return [block for block in self.blocks if isinstance(block, CodeBlock)]


def _discard(block: QWidget) -> None:
    block.hide()
    block.deleteLater()
