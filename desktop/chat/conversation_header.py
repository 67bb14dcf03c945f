"""The bar above the transcript: the conversation's title, the model, the tool panel.

The title is elided on one line; a click, Enter or F2 turns it into a line edit (Enter
or leaving it renames, Escape cancels). The model picker lists the models to choose
from for the next message. Like the list, it only shows and asks: the window renames,
switches the model and shows the panel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFocusEvent,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QStackedLayout,
    QToolButton,
    QWidget,
)

from desktop.style.fonts import set_sized_font
from desktop.style.icons import icon
from desktop.style.scheme import tokens_for
from desktop.style.tokens import RADII, SPACING, TYPE

NEW_CONVERSATION = "New conversation"
HEADER_HEIGHT = 52
ICON = 16
CHEVRON = 8
KEYBOARD_REASONS = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)


class TitleButton(QAbstractButton):
    """The title as text that says it can be clicked: elided, a soft hover background."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        set_sized_font(self, TYPE.title, TYPE.weight_bold)
        self.placeholder = False  # "New conversation": nothing to rename yet

    _keyboard_focus = False

    def focusInEvent(self, event: QFocusEvent) -> None:
        self._keyboard_focus = event.reason() in KEYBOARD_REASONS
        super().focusInEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()  # Enter renames too, not only Space
            return
        super().keyPressEvent(event)

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        return QSize(metrics.horizontalAdvance(self.text()) + 2 * SPACING.sm, 32)

    def minimumSizeHint(self) -> QSize:
        return QSize(48, 32)

    def shown_text(self) -> str:
        """The title as painted: elided to the room there is."""
        return QFontMetrics(self.font()).elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.width() - 2 * SPACING.sm
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = tokens_for(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_width = QFontMetrics(self.font()).horizontalAdvance(self.shown_text())
        box = QRectF(0, 0, min(self.width(), text_width + 2 * SPACING.sm), self.height())
        ring = self.hasFocus() and self._keyboard_focus
        if self.isEnabled() and (self.underMouse() or ring):
            hover = QColor(colors.text)
            hover.setAlphaF(0.06)
            painter.setPen(QColor(colors.focus) if ring else Qt.PenStyle.NoPen)
            painter.setBrush(hover)
            painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), RADII.sm, RADII.sm)
        painter.setPen(QColor(colors.text_muted if self.placeholder else colors.text))
        painter.drawText(
            self.rect().adjusted(SPACING.sm, 0, -SPACING.sm, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.shown_text(),
        )


class HeaderButton(QToolButton):
    """A quiet button for the bar: text (and a chevron when it opens a menu), a soft
    background on hover, the accent's when checked."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText(text)
        self.setAutoRaise(True)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        set_sized_font(self, TYPE.small, TYPE.weight_medium)

    def _scheme_source(self) -> QWidget:
        # The style sheet gives tool buttons a transparent background, which reads as
        # a dark palette: the bar around the button says which scheme is in use.
        return self.parentWidget() or self

    def _chevron(self) -> bool:
        return self.menu() is not None

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        width = metrics.horizontalAdvance(self.text()) + 2 * SPACING.md
        if not self.icon().isNull():
            width += ICON + (SPACING.xs if self.text() else 0)
        if self._chevron():
            width += CHEVRON + SPACING.xs
        return QSize(width, 32)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = tokens_for(self._scheme_source().palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        fill: QColor | None = None
        if self.isChecked() or self.isDown():
            fill = QColor(colors.accent_soft)
        elif self.underMouse() and self.isEnabled():
            fill = QColor(colors.text)
            fill.setAlphaF(0.06)
        painter.setPen(
            QColor(colors.focus) if self.hasFocus() and self._keyboard_focus else Qt.PenStyle.NoPen
        )
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, RADII.md, RADII.md)

        ink = QColor(colors.text if self.isEnabled() else colors.text_muted)
        x = SPACING.md
        if not self.icon().isNull():
            top = (self.height() - ICON) // 2
            self.icon().paint(painter, x, top, ICON, ICON)
            x += ICON + SPACING.xs
        painter.setPen(ink)
        metrics = QFontMetrics(self.font())
        text_width = metrics.horizontalAdvance(self.text())
        painter.drawText(
            QRectF(x, 0, text_width + 1, self.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.text(),
        )
        if self._chevron():
            cx = x + text_width + SPACING.xs + CHEVRON / 2
            cy = self.height() / 2
            path = QPainterPath()
            path.moveTo(cx - CHEVRON / 2, cy - CHEVRON / 4)
            path.lineTo(cx, cy + CHEVRON / 4)
            path.lineTo(cx + CHEVRON / 2, cy - CHEVRON / 4)
            muted = QColor(colors.text_muted)
            painter.setPen(QPen(muted, 1.5, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)

    _keyboard_focus = False

    def focusInEvent(self, event: QFocusEvent) -> None:
        # A ring for keyboard users only, as browsers' :focus-visible.
        self._keyboard_focus = event.reason() in KEYBOARD_REASONS
        super().focusInEvent(event)


class ConversationHeader(QWidget):
    rename_requested = Signal(str)
    model_chosen = Signal(str)
    tool_panel_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationHeader")
        self.setFixedHeight(HEADER_HEIGHT)
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACING.md, SPACING.sm, SPACING.md, SPACING.sm)
        row.setSpacing(SPACING.sm)

        self.title_button = TitleButton()
        self.title_button.clicked.connect(self.start_rename)
        self.title_edit = QLineEdit()
        self.title_edit.setFont(self.title_button.font())
        self.title_edit.setAccessibleName("Conversation title")
        self.title_edit.setPlaceholderText("Title")
        self.title_edit.installEventFilter(self)
        self.title_edit.editingFinished.connect(self._finish_rename)
        title_area = QWidget()
        self._title_stack = QStackedLayout(title_area)
        self._title_stack.addWidget(self.title_button)
        self._title_stack.addWidget(self.title_edit)
        title_area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        row.addWidget(title_area, 1)

        self.model_button = HeaderButton()
        self.model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.model_button.setToolTip("The model that answers your next message")
        self.model_menu = QMenu(self.model_button)
        self.model_button.setMenu(self.model_menu)
        # Opened, the menu starts at the model in use, as a combo box would.
        self.model_menu.aboutToShow.connect(
            lambda: self.model_menu.setActiveAction(self._model_group.checkedAction())
        )
        self._model_group = QActionGroup(self)
        self._model_group.setExclusive(True)
        self._model_group.triggered.connect(self._on_model_action)
        row.addWidget(self.model_button)

        self.tool_panel_button = HeaderButton()
        self.tool_panel_button.setCheckable(True)
        self.tool_panel_button.setToolTip("Show or hide the tool panel")
        self.tool_panel_button.setAccessibleName("Tool panel")
        self.tool_panel_button.toggled.connect(self.tool_panel_toggled)
        row.addWidget(self.tool_panel_button)

        rename = QShortcut(QKeySequence(Qt.Key.Key_F2), self)
        rename.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        rename.activated.connect(self.start_rename)

        self.title = ""
        self.model: str | None = None
        self._editing = False
        self._recolor()
        self.set_title(None)
        self.set_models([], None)

    # -- the title --------------------------------------------------------------------

    def set_title(self, title: str | None) -> None:
        """The open conversation's title; None before there is a conversation."""
        self.title = title or ""
        button = self.title_button
        button.placeholder = title is None
        button.setText(title if title is not None else NEW_CONVERSATION)
        button.setEnabled(title is not None)
        button.setToolTip(f"{title}\nClick or press F2 to rename" if title is not None else "")
        button.setAccessibleName(f"Title: {title or NEW_CONVERSATION}")
        button.setAccessibleDescription("Press to rename" if title is not None else "")
        button.updateGeometry()
        button.update()

    def start_rename(self) -> None:
        if not self.title_button.isEnabled() or self._editing:
            return
        self._editing = True
        self.title_edit.setText(self.title)
        self._title_stack.setCurrentWidget(self.title_edit)
        self.title_edit.selectAll()
        self.title_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def is_renaming(self) -> bool:
        return self._editing

    def _finish_rename(self) -> None:
        """Enter, or focus leaving the field: the new title, if it is one."""
        if not self._editing:
            return
        title = self.title_edit.text().strip()
        self._end_rename(refocus=self.title_edit.hasFocus())  # Enter, not a click away
        if title and title != self.title:
            self.set_title(title)  # shown at once; the window confirms or puts it back
            self.rename_requested.emit(title)

    def _end_rename(self, refocus: bool) -> None:
        self._editing = False
        self._title_stack.setCurrentWidget(self.title_button)
        if refocus:  # keys stay where they were; a click elsewhere keeps its focus
            self.title_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.title_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._end_rename(refocus=True)  # before focus moves, so leaving does not rename
            return True
        return super().eventFilter(watched, event)

    # -- the model --------------------------------------------------------------------

    def set_models(self, models: list[str], current: str | None) -> None:
        """The models to choose from, ``current`` checked (listed even if not in them)."""
        self.model = current
        names = list(dict.fromkeys([*([current] if current else []), *models]))
        self.model_menu.clear()
        for action in self._model_group.actions():
            self._model_group.removeAction(action)
        for name in names:
            action = QAction(name, self.model_menu)
            action.setCheckable(True)
            action.setChecked(name == current)
            self._model_group.addAction(action)
            self.model_menu.addAction(action)
        self._show_model()

    def _on_model_action(self, action: QAction) -> None:
        name = action.text()
        if name != self.model:
            self.model = name
            self._show_model()
            self.model_chosen.emit(name)

    def _show_model(self) -> None:
        label = self.model or "No model"
        self.model_button.setText(label)
        self.model_button.setAccessibleName(f"Model: {label}")
        self.model_button.setEnabled(bool(self._model_group.actions()))

    def model_names(self) -> list[str]:
        return [action.text() for action in self._model_group.actions()]

    def choose_model(self, name: str) -> None:
        """As picking it from the menu does."""
        for action in self._model_group.actions():
            if action.text() == name:
                action.trigger()

    # -- the tool panel ---------------------------------------------------------------

    def set_tool_panel_visible(self, visible: bool) -> None:
        """Follow the panel when something else shows or hides it (no signal)."""
        self.tool_panel_button.blockSignals(True)
        self.tool_panel_button.setChecked(visible)
        self.tool_panel_button.blockSignals(False)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: retint
            self._recolor()

    def _recolor(self) -> None:
        colors = tokens_for(self.palette())
        self.tool_panel_button.setIcon(icon("panel-right", colors.text_muted))

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = tokens_for(self.palette())
        painter = QPainter(self)
        painter.setPen(QColor(colors.border))
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
