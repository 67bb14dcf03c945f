"""Qt's Markdown import, dressed in the design tokens.

``QTextDocument.setMarkdown`` (md4c, GitHub dialect) builds the right structure:
headings, nested lists, tables, block quotes, links, inline code, rules. What it does
not do is look designed: headings are huge, links are pure blue, inline code has no
background, tables have thin grey borders and a misplaced first header cell, quotes are
only indented, rules are black. A default style sheet does not help (it applies to HTML
only), so the formats are adjusted here after each import, in one edit block (one
relayout). The cost follows what the text holds: a plain paragraph, as a reply streams
in, is a single block with a single fragment.

Quote bars and rules are painted by the text block (``decorations``): Qt's rich text
has no per-side block border, and its own rule ignores the palette.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
    QTextTable,
    QTextTableCellFormat,
)

from desktop.style.tokens import SPACING, TYPE, Palette

# Heading sizes relative to the body text: a clear hierarchy without shouting.
HEADING_SCALE = {1: 1.45, 2: 1.25, 3: 1.1}
HEADING_TOP = {1: SPACING.lg + 2, 2: SPACING.md + 2, 3: SPACING.md}
PARAGRAPH_GAP = SPACING.sm + 2
ITEM_GAP = SPACING.xs
QUOTE_INDENT = SPACING.lg
LIST_INDENT = SPACING.xl
CELL_PADDING = SPACING.sm - 2
RULE_HEIGHT = SPACING.xl

_RULER = QTextFormat.Property.BlockTrailingHorizontalRulerWidth
_QUOTE = QTextFormat.Property.BlockQuoteLevel


@dataclass(frozen=True)
class Decoration:
    kind: Literal["quote", "rule"]
    block: QTextBlock
    level: int = 0  # quote nesting, 1 for a quote at the top level


def set_dressed_markdown(
    document: QTextDocument, markdown: str, colors: Palette
) -> list[Decoration]:
    """Import ``markdown`` into ``document`` and dress it; returns what to paint over it."""
    document.setIndentWidth(LIST_INDENT)
    document.setMarkdown(markdown)
    # Spans are looked at character run by character run: skipped when the text cannot
    # hold inline code or a link (a long plain paragraph as it streams in).
    spans = any(mark in markdown for mark in ("`", "](", ":", "<"))
    return dress(document, colors, spans)


def dress(document: QTextDocument, colors: Palette, spans: bool = True) -> list[Decoration]:
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    _drop_leading_empty_block(document, cursor)
    in_tables = _dress_tables(document, cursor, colors)
    decorations: list[Decoration] = []
    base = document.defaultFont().pointSizeF()
    if base <= 0:
        base = TYPE.body
    block = document.begin()
    while block.isValid():
        if block.blockNumber() not in in_tables:
            decoration = _dress_block(block, cursor, colors, base)
            if decoration is not None:
                decorations.append(decoration)
        if spans:
            _dress_fragments(block, cursor, colors)
        block = block.next()
    _trim_outer_margins(document, cursor, in_tables)
    cursor.endEditBlock()
    return decorations


def _dress_block(
    block: QTextBlock, cursor: QTextCursor, colors: Palette, base: float
) -> Decoration | None:
    fmt = block.blockFormat()
    decoration = None
    level = fmt.headingLevel()
    if level:
        fmt.setTopMargin(HEADING_TOP.get(level, SPACING.sm))
        fmt.setBottomMargin(SPACING.xs)
        heading = QTextCharFormat()
        heading.setProperty(QTextFormat.Property.FontSizeAdjustment, 0)
        heading.setFontPointSize(base * HEADING_SCALE.get(level, 1.0))
        heading.setFontWeight(QFont.Weight.DemiBold)
        _merge_chars(cursor, block, heading)
    elif block.textList() is not None:
        fmt.setTopMargin(0)
        # Items sit close; the list as a whole is spaced like a paragraph.
        list_ends = block.next().textList() is None
        fmt.setBottomMargin(PARAGRAPH_GAP if list_ends else ITEM_GAP)
    else:
        fmt.setTopMargin(0)
        fmt.setBottomMargin(PARAGRAPH_GAP)
    quote = fmt.intProperty(_QUOTE)
    if quote:
        fmt.setLeftMargin(quote * QUOTE_INDENT)
        muted = QTextCharFormat()
        muted.setForeground(QColor(colors.text_muted))
        _merge_chars(cursor, block, muted)
        decoration = Decoration("quote", block, quote)
    if fmt.hasProperty(_RULER):
        fmt.clearProperty(_RULER)
        # An empty paragraph a rule's height, not a line's: the rule is painted across it.
        fmt.setLineHeight(RULE_HEIGHT, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
        fmt.setTopMargin(0)
        fmt.setBottomMargin(0)
        decoration = Decoration("rule", block)
    cursor.setPosition(block.position())
    cursor.setBlockFormat(fmt)
    return decoration


def _drop_leading_empty_block(document: QTextDocument, cursor: QTextCursor) -> None:
    """The importer starts a text that opens with a rule (as one after a code block
    does) with an empty paragraph: a blank line no one wrote. A frame (a table) needs the
    block before it, so that one stays."""
    first = document.firstBlock()
    after = first.next()
    if first.length() != 1 or not after.isValid() or first.blockFormat().hasProperty(_RULER):
        return
    if any(
        frame.firstPosition() <= after.position() for frame in document.rootFrame().childFrames()
    ):
        return
    cursor.setPosition(0)
    cursor.deleteChar()


def _trim_outer_margins(document: QTextDocument, cursor: QTextCursor, in_tables: set[int]) -> None:
    """No gap above the first block or below the last: the widget around the text spaces
    it from its neighbours."""
    for block, top in ((document.firstBlock(), True), (document.lastBlock(), False)):
        if block.isValid() and block.blockNumber() not in in_tables:
            fmt = block.blockFormat()
            if top:
                fmt.setTopMargin(0)
            else:
                fmt.setBottomMargin(0)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(fmt)


def _dress_fragments(block: QTextBlock, cursor: QTextCursor, colors: Palette) -> None:
    fragments = block.begin()
    while not fragments.atEnd():
        fragment = fragments.fragment()
        char = fragment.charFormat()
        change = None
        if char.isAnchor():
            change = QTextCharFormat()
            change.setForeground(QColor(colors.accent))
            change.setFontUnderline(True)
        elif char.fontFixedPitch():
            change = QTextCharFormat()
            change.setBackground(QColor(colors.code_inline))
        if change is not None:
            cursor.setPosition(fragment.position())
            cursor.setPosition(
                fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
            )
            cursor.mergeCharFormat(change)
        fragments += 1


def _merge_chars(cursor: QTextCursor, block: QTextBlock, change: QTextCharFormat) -> None:
    cursor.setPosition(block.position())
    cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.mergeCharFormat(change)


def _tables(frame: QTextFrame) -> list[QTextTable]:
    found: list[QTextTable] = []
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            found.append(child)
        found.extend(_tables(child))
    return found


def _dress_tables(document: QTextDocument, cursor: QTextCursor, colors: Palette) -> set[int]:
    """Borders, padding and a header row; returns the block numbers inside tables."""
    inside: set[int] = set()
    for table in _tables(document.rootFrame()):
        fmt = table.format()
        fmt.setBorder(1)
        fmt.setBorderBrush(QBrush(QColor(colors.border)))
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        fmt.setBorderCollapse(True)
        fmt.setCellSpacing(0)
        fmt.setCellPadding(CELL_PADDING)
        fmt.setHeaderRowCount(1)
        fmt.setTopMargin(SPACING.xs)
        fmt.setBottomMargin(PARAGRAPH_GAP)
        table.setFormat(fmt)
        header = QTextTableCellFormat()
        header.setBackground(QColor(colors.code_bg))
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.DemiBold)
        flat = QTextBlockFormat()
        flat.setTopMargin(0)
        flat.setBottomMargin(0)
        for row in range(table.rows()):
            for column in range(table.columns()):
                cell = table.cellAt(row, column)
                _drop_leading_empty_paragraph(
                    document, cursor, cell.firstPosition(), cell.lastPosition()
                )
                cell = table.cellAt(row, column)  # positions may have moved
                cursor.setPosition(cell.firstPosition())
                cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeBlockFormat(flat)
                if row == 0:
                    cell.setFormat(header)
                    cursor.mergeCharFormat(bold)
                block = document.findBlock(cell.firstPosition())
                while block.isValid() and block.position() <= cell.lastPosition():
                    inside.add(block.blockNumber())
                    block = block.next()
    return inside


def _drop_leading_empty_paragraph(
    document: QTextDocument, cursor: QTextCursor, first: int, last: int
) -> None:
    """Qt's importer starts a table's first cell with an empty paragraph, which pushes its
    text below the other header cells: merge it away."""
    block = document.findBlock(first)
    if block.length() == 1 and block.position() + block.length() <= last:
        cursor.setPosition(first)
        cursor.deleteChar()
