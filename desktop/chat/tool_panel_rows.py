"""The tool panel's list rows, painted: wrench, tool name, a status chip, the duration.

Painted by a delegate rather than built from widgets per row: the list is refreshed on
every coalesced tool update while a reply streams, and a conversation may hold hundreds
of calls, so a row costs no widgets at all. Colours come from the tokens of the list's
own palette, so rows follow light and dark like the rest of the window.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.chat.tool_card import duration_text
from desktop.chat.transcript_model import ToolCallItem
from desktop.style.icons import icon
from desktop.style.scheme import tokens_for
from desktop.style.stylesheet import mix
from desktop.style.tokens import RADII, SPACING, TYPE, Palette

# Item data roles a row carries besides its text (the text is for screen readers).
CALL_ID_ROLE = Qt.ItemDataRole.UserRole
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
DURATION_ROLE = Qt.ItemDataRole.UserRole + 3
SERVER_ROLE = Qt.ItemDataRole.UserRole + 4  # the MCP server's name; "" for a built-in tool

# A status chip's words, where the status alone would not say it.
CHIP_WORDS = {"waiting": "waiting for approval"}

ICON = 14
ROW_MARGIN = SPACING.xs  # between a row's rounded background and the list's edge


def row_text(call: ToolCallItem) -> str:
    """What a row says in words: its accessible text, and what tests read."""
    name = f"{call.name} · {call.server}" if call.server else call.name
    text = f"{name} — {CHIP_WORDS.get(call.status, call.status)}"
    if call.duration_ms is not None:
        text += f" · {duration_text(call.duration_ms)}"
    return text


def chip_colors(c: Palette, status: str) -> tuple[str, str]:
    """A status chip's (text, background): success for done, danger for error, the
    accent while running — the same meanings as the inline tool card."""
    if status == "done":
        return c.success, mix(c.surface, c.success, 0.14)
    if status in ("error", "denied"):
        return c.danger, c.danger_soft
    if status == "waiting":
        return c.warning, mix(c.surface, c.warning, 0.14)
    return c.accent, c.accent_soft


def _scaled(font: QFont, size: float, weight: int | None = None) -> QFont:
    """``font`` at a size of the type scale, relative to the body size the list's font
    is at (so the user's text size still applies)."""
    scaled = QFont(font)
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * size / TYPE.body)
    if weight is not None:
        scaled.setWeight(QFont.Weight(weight))
    return scaled


class ToolCallRowDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        name = QFontMetrics(_scaled(option.font, TYPE.small))
        return QSize(200, max(name.height(), ICON) + 2 * SPACING.sm + 2 * SPACING.xxs)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        widget: QWidget | None = option.widget
        c = tokens_for(widget.palette() if widget is not None else option.palette)
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(option.rect).adjusted(ROW_MARGIN, 1, -ROW_MARGIN, -1)
        background = None
        if state & QStyle.StateFlag.State_Selected:
            background = c.accent_soft
        elif state & QStyle.StateFlag.State_MouseOver:
            background = c.hover
        if background is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(background))
            painter.drawRoundedRect(box, RADII.md, RADII.md)

        inner = box.toRect().adjusted(SPACING.sm, 0, -SPACING.sm, 0)
        status = index.data(STATUS_ROLE) or ""
        duration = index.data(DURATION_ROLE) or ""

        # Right to left: duration, chip; the name takes what is left and elides.
        caption = _scaled(option.font, TYPE.caption)
        caption_metrics = QFontMetrics(caption)
        right = inner.right()
        painter.setFont(caption)
        if duration:
            width = caption_metrics.horizontalAdvance(duration)
            painter.setPen(QColor(c.text_muted))
            painter.drawText(
                QRect(right - width, inner.top(), width, inner.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                duration,
            )
            right -= width + SPACING.sm
        if status:
            words = CHIP_WORDS.get(status, status)
            chip_font = _scaled(option.font, TYPE.caption, TYPE.weight_medium)
            painter.setFont(chip_font)
            metrics = QFontMetrics(chip_font)
            width = metrics.horizontalAdvance(words) + 2 * SPACING.sm
            height = metrics.height() + SPACING.xxs * 2
            chip = QRectF(right - width, inner.center().y() - height / 2 + 1, width, height)
            fg, bg = chip_colors(c, status)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(bg))
            painter.drawRoundedRect(chip, height / 2, height / 2)
            painter.setPen(QColor(fg))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, words)
            right = int(chip.left()) - SPACING.sm

        left = inner.left()
        wrench = QRect(left, inner.center().y() - ICON // 2 + 1, ICON, ICON)
        icon("wrench", c.text_muted).paint(painter, wrench)
        left += ICON + SPACING.sm
        name_font = _scaled(option.font, TYPE.small, TYPE.weight_bold)
        painter.setFont(name_font)
        painter.setPen(QColor(c.text))
        name_rect = QRect(left, inner.top(), max(0, right - left), inner.height())
        name = QFontMetrics(name_font).elidedText(
            index.data(NAME_ROLE) or "", Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name
        )
        server = index.data(SERVER_ROLE) or ""
        if server:  # "· server", muted, in what the name leaves
            left += QFontMetrics(name_font).horizontalAdvance(name) + SPACING.xs
            small = _scaled(option.font, TYPE.small)
            painter.setFont(small)
            painter.setPen(QColor(c.text_muted))
            rest = QRect(left, inner.top(), max(0, right - left), inner.height())
            painter.drawText(
                rest,
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                QFontMetrics(small).elidedText(
                    f"· {server}", Qt.TextElideMode.ElideRight, rest.width()
                ),
            )
        painter.restore()
