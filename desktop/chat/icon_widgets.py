"""Icons in the transcript: a painted icon, an icon button, and one that copies.

Each takes its colour from the tokens by role ("text_muted", "accent", ...) and tints
itself again when the palette turns light or dark. Icons are painted from the SVG at the
widget's own device pixel ratio, so they are crisp on HiDPI screens.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolButton, QWidget

from desktop.style.icons import icon
from desktop.style.scheme import tokens_for

COPIED_MS = 1500  # how long "Copied" shows after a copy


def tint(widget: QWidget, role: str) -> str:
    """The colour of a token role ("text_muted", "danger"...) in the widget's scheme."""
    return getattr(tokens_for(widget.palette()), role)


class IconLabel(QWidget):
    """A non-interactive icon, ``size`` px square."""

    def __init__(
        self, name: str, role: str = "text_muted", size: int = 16, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.name, self.role = name, role
        self.setFixedSize(size, size)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def set_icon(self, name: str, role: str | None = None) -> None:
        if (name, role or self.role) != (self.name, self.role):
            self.name, self.role = name, role or self.role
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        icon(self.name, tint(self, self.role)).paint(painter, self.rect())


class IconButton(QToolButton):
    """An icon-only button for an action on a message, with a tooltip and a name for
    screen readers."""

    def __init__(
        self, name: str, tip: str, accessible_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("messageAction")
        self.setToolTip(tip)
        self.setAccessibleName(accessible_name)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setIconSize(QSize(16, 16))
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.icon_name = name
        self.role = "text_muted"
        self._retint()

    def set_icon_name(self, name: str) -> None:
        if name != self.icon_name:
            self.icon_name = name
            self._retint()

    def _retint(self) -> None:
        self.setIcon(icon(self.icon_name, tint(self, self.role)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._retint()


class CopyButton(IconButton):
    """Copies ``source()`` to the clipboard; shows a check and "Copied" for a moment."""

    def __init__(
        self,
        source: Callable[[], str],
        tip: str,
        accessible_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("copy", tip, accessible_name, parent)
        self.source = source
        self.tip = tip
        self.copied = False
        self._reset = QTimer(self)
        self._reset.setSingleShot(True)
        self._reset.setInterval(COPIED_MS)
        self._reset.timeout.connect(self._show_idle)
        self.clicked.connect(self.copy)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.source())
        self.copied = True
        self.role = "success"
        self.set_icon_name("check")
        self._retint()
        self.setToolTip("Copied")
        self._reset.start()

    def _show_idle(self) -> None:
        self.copied = False
        self.role = "text_muted"
        self.set_icon_name("copy")
        self._retint()
        self.setToolTip(self.tip)
