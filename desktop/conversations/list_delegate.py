"""Paints a conversation row: day header, title elided on one line, time, state dot.

A day header ("Today") is painted above the first row of its group, inside that row's
item, rather than being an item of its own: the list's items stay exactly the
conversations (``item(0)`` is the newest one, as the window and keyboard expect), and
a header can never be selected, opened or given focus. The view swallows clicks on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.conversations.list_rows import Role, RowState
from desktop.style.fonts import sized
from desktop.style.scheme import tokens_for
from desktop.style.tokens import RADII, SPACING, TYPE, Palette

ROW_HEIGHT = 36
HEADER_HEIGHT = 28
GROUP_GAP = SPACING.sm  # extra air above every header but the first
BAND_INSET = SPACING.sm  # the row's rounded background, in from the list's edges
PAD = SPACING.sm  # inside the band, either side
DOT = 7  # the unread / generating / waiting dot's diameter
GUTTER = 14  # where the dot sits, before the title; titles align with or without one
NARROW = 168  # title and time room below which rows show no time
MIN_TITLE = 64  # a state label shows only if the title keeps this much

AnyIndex = QModelIndex | QPersistentModelIndex


def row_state(index: AnyIndex) -> RowState:
    return RowState(
        title=index.data(Role.TITLE),
        time_text=index.data(Role.TIME_TEXT) or "",
        running=bool(index.data(Role.RUNNING)),
        unread=bool(index.data(Role.UNREAD)),
        waiting=bool(index.data(Role.WAITING)),
    )


@dataclass(frozen=True)
class RowLayout:
    header: QRect  # empty when the row opens no group
    band: QRect  # the part that hovers, selects and takes clicks
    dot: QRectF
    title: QRect
    side: QRect  # the time, or the state instead of it
    title_text: str  # elided to fit, exactly as painted
    side_text: str


def state_colors(state: RowState, colors: Palette) -> tuple[str | None, str]:
    """The dot's colour (None: no dot) and the side text's: waiting for approval is a
    warning, a reply generating or unread is the accent, a plain time is muted."""
    if state.waiting:
        return colors.warning, colors.warning
    if state.running:
        return colors.accent, colors.accent
    return (colors.accent if state.unread else None), colors.text_muted


class HoverSource(Protocol):
    """What the delegate reads of its view (``ConversationItems``, which keeps it)."""

    hovered_row: int
    keyboard_focus: bool


def header_height(index: AnyIndex) -> int:
    if not index.data(Role.HEADER):
        return 0
    return HEADER_HEIGHT + (GROUP_GAP if index.row() > 0 else 0)


class ConversationDelegate(QStyledItemDelegate):
    def __init__(self, view: HoverSource) -> None:
        super().__init__()
        self._view = view

    # -- geometry -----------------------------------------------------------------------

    def title_font(self, base: QFont, unread: bool) -> QFont:
        return sized(base, TYPE.small, TYPE.weight_bold if unread else TYPE.weight_regular)

    def caption_font(self, base: QFont, bold: bool = False) -> QFont:
        return sized(base, TYPE.caption, TYPE.weight_bold if bold else TYPE.weight_regular)

    def layout(self, rect: QRect, index: AnyIndex, base: QFont) -> RowLayout:
        state = row_state(index)
        top = header_height(index)
        header = QRect(rect.left(), rect.top(), rect.width(), top) if top else QRect()
        band = QRect(
            rect.left() + BAND_INSET,
            rect.top() + top,
            max(0, rect.width() - 2 * BAND_INSET),
            rect.height() - top,
        )
        inner = band.adjusted(PAD, 0, -PAD, 0)
        dot = QRectF(
            inner.left() + (GUTTER - DOT) / 2 - 2,
            band.center().y() - DOT / 2 + 1,
            DOT,
            DOT,
        )
        text_left = inner.left() + GUTTER
        room = inner.right() - text_left
        # A narrow list keeps the title: times go first (all rows alike, so the column
        # does not come and go), then a state label leaves the dot to say it.
        side_text = state.status or (state.time_text if room >= NARROW else "")
        caption = QFontMetrics(self.caption_font(base))
        side_width = caption.horizontalAdvance(side_text) if side_text else 0
        if side_text and room - side_width - SPACING.sm < MIN_TITLE:
            side_text, side_width = "", 0
        title_width = room - (side_width + SPACING.sm if side_text else 0)
        title = QRect(text_left, band.top(), max(0, title_width), band.height())
        side = QRect(inner.right() - side_width, band.top(), side_width + 1, band.height())
        metrics = QFontMetrics(self.title_font(base, state.unread))
        title_text = metrics.elidedText(
            state.title, Qt.TextElideMode.ElideRight, max(0, title_width)
        )
        return RowLayout(header, band, dot, title, side, title_text, side_text)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        # Width 1: the view then lays rows out as wide as itself, never wider, so a
        # long title cannot make the list scroll sideways.
        return QSize(1, ROW_HEIGHT + header_height(index))

    # -- painting -----------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        colors = tokens_for(option.palette)
        state = row_state(index)
        row = self.layout(option.rect, index, option.font)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)

        if row.header.isValid():
            painter.setFont(self.caption_font(option.font, bold=True))
            painter.setPen(QColor(colors.text_muted))
            label = row.header.adjusted(BAND_INSET + PAD, 0, -BAND_INSET, -SPACING.xs)
            painter.drawText(
                label,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                index.data(Role.HEADER),
            )

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = self._view.hovered_row == index.row()
        band = QRectF(row.band)
        if selected or hovered:
            fill = QColor(colors.accent_soft if selected else colors.text)
            if not selected:
                fill.setAlphaF(0.06)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(band, RADII.md, RADII.md)
        if option.state & QStyle.StateFlag.State_HasFocus and self._view.keyboard_focus:
            ring = QColor(colors.focus)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(band.adjusted(0.5, 0.5, -0.5, -0.5), RADII.md, RADII.md)

        dot_color, side_color = state_colors(state, colors)
        if dot_color is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(dot_color))
            painter.drawEllipse(row.dot)

        painter.setFont(self.title_font(option.font, state.unread))
        painter.setPen(QColor(colors.text))
        painter.drawText(
            row.title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, row.title_text
        )
        if row.side_text:
            painter.setFont(self.caption_font(option.font))
            painter.setPen(QColor(side_color))
            painter.drawText(
                row.side, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, row.side_text
            )
        painter.restore()

    def band_at(self, rect: QRect, index: AnyIndex, point: QPoint) -> bool:
        """Whether a point in the item's rect is on the row itself (not its header)."""
        return point.y() >= rect.top() + header_height(index)
