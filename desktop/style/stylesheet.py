"""The application style sheet, made from the design tokens for light or dark.

``apply_theme`` installs it on the application, so a theme change restyles every widget
at once. Selectors are class names and object names; the chat's widgets name themselves
(``userBubble``, ``toolCard``, ``turnError``...) so nothing here depends on layout.

Variants any window part may use, by dynamic property:
``QPushButton[variant="primary"]`` (accent fill), ``[variant="danger"]``,
``[variant="ghost"]`` (no frame until hovered).

Focus: every focusable control shows a 2 px ring in the focus colour. The ring replaces
the 1 px border and the padding shrinks by the difference, so focus never moves text.

A style sheet's background becomes the widget's palette Window colour, which is how
widgets tell light from dark (``scheme_for``): the chat's text blocks and labels get no
background rule, and a transparent one is read as "ask the application".

Left to the widgets themselves (painted, not style-sheeted): code blocks, whose colours
follow their own palette (``CodeBlock``), and the rows of the conversation list.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.style.icons import icon_url
from desktop.style.tokens import PALETTES, RADII, SPACING, TYPE, Palette, Scheme


def stylesheet(scheme: Scheme, text_scale: int = 100) -> str:
    """``text_scale``: the user's text size in percent (Ctrl+plus / Ctrl+minus); every
    point size here follows it, as the application font does."""
    c = PALETTES[scheme]
    pt = _points(text_scale)
    return "\n".join(
        part(c, pt)
        for part in (
            _buttons,
            _inputs,
            _choices,
            _scroll_bars,
            _item_views,
            _menus,
            _chrome,
            _transcript,
            _turn,
            _tool_cards,
            _approval_cards,
            _tool_panel,
            _code_blocks,
            _settings,
        )
    )


def mix(a: str, b: str, share_of_b: float) -> str:
    """``a`` blended towards ``b`` (both "#rrggbb")."""
    channels = (
        round(int(a[i : i + 2], 16) * (1 - share_of_b) + int(b[i : i + 2], 16) * share_of_b)
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{value:02x}" for value in channels)


PointSize = Callable[[float], str]  # a size of the type scale -> "10.5pt" at the text scale


def _points(text_scale: int) -> PointSize:
    return lambda size: f"{round(size * text_scale / 100, 2):g}pt"


def _buttons(c: Palette, pt: PointSize) -> str:
    return f"""
QPushButton {{
    background: {c.raised}; color: {c.text};
    border: 1px solid {c.border}; border-radius: {RADII.md}px;
    padding: 5px 12px;
}}
QPushButton:hover {{ background: {c.hover}; }}
QPushButton:pressed {{ background: {c.accent_soft}; }}
QPushButton:focus {{ border: 2px solid {c.focus}; padding: 4px 11px; }}
QPushButton:disabled {{ color: {c.text_muted}; background: {c.window}; }}
QPushButton[variant="primary"] {{
    background: {c.accent}; color: {c.accent_text}; border-color: {c.accent};
}}
QPushButton[variant="primary"]:hover {{ background: {c.focus}; border-color: {c.focus}; }}
QPushButton[variant="primary"]:focus {{ border-color: {c.text}; }}
QPushButton[variant="primary"]:disabled {{
    background: {c.accent_soft}; border-color: {c.accent_soft}; color: {c.text_muted};
}}
QPushButton[variant="danger"] {{ color: {c.danger}; }}
QPushButton[variant="ghost"] {{ background: transparent; border-color: transparent; }}
QPushButton[variant="ghost"]:hover {{ background: {c.hover}; }}
QPushButton[variant="ghost"]:focus {{ border-color: {c.focus}; }}

QToolButton {{
    background: transparent; color: {c.text};
    border: 1px solid transparent; border-radius: {RADII.sm + 2}px;
    padding: 3px;
}}
QToolButton:hover {{ background: {c.hover}; }}
QToolButton:pressed, QToolButton:checked {{ background: {c.accent_soft}; }}
QToolButton:focus {{ border: 2px solid {c.focus}; padding: 2px; }}
QToolButton:disabled {{ color: {c.text_muted}; }}
"""


def _inputs(c: Palette, pt: PointSize) -> str:
    return f"""
QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox {{
    background: {c.surface}; color: {c.text};
    border: 1px solid {c.border}; border-radius: {RADII.md}px;
    padding: 5px 8px;
    selection-background-color: {c.selection}; selection-color: {c.text};
}}
QLineEdit:focus, QPlainTextEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus {{
    border: 2px solid {c.focus}; padding: 4px 7px;
}}
QLineEdit:disabled, QPlainTextEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled {{
    color: {c.text_muted}; background: {c.window};
}}
QPlainTextEdit#composer {{ font-size: {pt(TYPE.body)}; }}
"""


def _choices(c: Palette, pt: PointSize) -> str:
    chevron = icon_url("chevron-down", c.text_muted)
    check = icon_url("check", c.accent_text)
    return f"""
QComboBox {{
    background: {c.raised}; color: {c.text};
    border: 1px solid {c.border}; border-radius: {RADII.md}px;
    padding: 5px 28px 5px 10px;
}}
QComboBox:hover {{ background: {c.hover}; }}
QComboBox:focus {{ border: 2px solid {c.focus}; padding: 4px 27px 4px 9px; }}
QComboBox:disabled {{ color: {c.text_muted}; background: {c.window}; }}
QComboBox::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right;
    width: 24px; border: none;
}}
QComboBox::down-arrow {{ image: {chevron}; width: 14px; height: 14px; }}
QComboBox QAbstractItemView {{
    background: {c.raised}; color: {c.text}; border: 1px solid {c.border};
    selection-background-color: {c.accent_soft}; selection-color: {c.text};
    padding: 4px; outline: 0;
}}

QCheckBox, QRadioButton {{ spacing: 8px; color: {c.text}; }}
QCheckBox::indicator, QRadioButton::indicator {{
    width: 14px; height: 14px;
    border: 1px solid {c.text_muted}; background: {c.surface};
}}
QCheckBox::indicator {{ border-radius: {RADII.sm}px; }}
QRadioButton::indicator {{ border-radius: 8px; }}
QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border-color: {c.accent}; }}
QCheckBox::indicator:focus, QRadioButton::indicator:focus {{
    border: 2px solid {c.focus}; width: 12px; height: 12px;
}}
QCheckBox::indicator:checked {{
    background: {c.accent}; border-color: {c.accent}; image: {check};
}}
QRadioButton::indicator:checked {{
    border-color: {c.accent};
    background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
        stop: 0 {c.accent}, stop: 0.45 {c.accent}, stop: 0.55 {c.surface}, stop: 1 {c.surface});
}}
"""


def _scroll_bars(c: Palette, pt: PointSize) -> str:
    return f"""
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; border: none; }}
QScrollBar:horizontal {{ background: transparent; height: 12px; margin: 0; border: none; }}
QScrollBar::handle:vertical {{
    background: {c.scrollbar}; min-height: 32px; border-radius: 3px; margin: 2px 3px;
}}
QScrollBar::handle:horizontal {{
    background: {c.scrollbar}; min-width: 32px; border-radius: 3px; margin: 3px 2px;
}}
QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {c.text_muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{
    width: 0; height: 0; border: none; background: none;
}}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
"""


def _item_views(c: Palette, pt: PointSize) -> str:
    return f"""
QAbstractItemView {{
    selection-background-color: {c.accent_soft}; selection-color: {c.text};
    alternate-background-color: {c.sidebar};
}}
QHeaderView::section {{
    background: {c.window}; color: {c.text_muted};
    border: none; border-bottom: 1px solid {c.border}; padding: 4px 8px;
}}
"""


def _menus(c: Palette, pt: PointSize) -> str:
    return f"""
QMenuBar {{ background: {c.window}; color: {c.text}; }}
QMenuBar::item {{ background: transparent; padding: 4px 10px; border-radius: {RADII.sm}px; }}
QMenuBar::item:selected {{ background: {c.hover}; }}
QMenu {{
    background: {c.raised}; color: {c.text};
    border: 1px solid {c.border}; padding: 4px;
}}
QMenu::item {{ padding: 6px 28px 6px 12px; border-radius: {RADII.sm}px; }}
QMenu::item:selected {{ background: {c.accent_soft}; }}
QMenu::item:disabled {{ color: {c.text_muted}; }}
QMenu::separator {{ height: 1px; background: {c.border}; margin: 4px 8px; }}
QToolTip {{
    background: {c.text}; color: {c.surface};
    border: 1px solid {c.text}; border-radius: {RADII.sm}px; padding: 4px 8px;
}}
"""


def _chrome(c: Palette, pt: PointSize) -> str:
    return f"""
QStatusBar {{ background: {c.window}; color: {c.text_muted}; border-top: 1px solid {c.border}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ color: {c.text_muted}; }}
QSplitter::handle {{ background: {c.border}; }}
QSplitter::handle:horizontal {{ width: 1px; }}
QSplitter::handle:vertical {{ height: 1px; }}
QDockWidget::title {{
    background: {c.window}; padding: 6px 8px; border-bottom: 1px solid {c.border};
}}
QDockWidget {{ titlebar-close-icon: {icon_url("x", c.text_muted)}; }}
QDockWidget::close-button, QDockWidget::float-button {{
    border: none; background: transparent; border-radius: {RADII.sm}px; padding: 2px;
}}
QDockWidget::close-button:hover, QDockWidget::float-button:hover {{ background: {c.hover}; }}
QTabWidget::pane {{ border: 1px solid {c.border}; border-radius: {RADII.md}px; top: -1px; }}
QTabBar::tab {{
    background: transparent; color: {c.text_muted};
    padding: 6px 12px; border: none; border-bottom: 2px solid transparent;
}}
QTabBar::tab:hover {{ color: {c.text}; }}
QTabBar::tab:selected {{ color: {c.text}; border-bottom-color: {c.accent}; }}
QGroupBox {{
    border: 1px solid {c.border}; border-radius: {RADII.md}px;
    margin-top: 14px; padding-top: 8px;
}}
QGroupBox::title {{
    subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {c.text_muted};
}}
QProgressBar {{
    background: {c.hover}; border: none; border-radius: 3px; text-align: center;
    color: {c.text};
}}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}
QWidget#conversationList {{ background: {c.sidebar}; }}
"""


def _transcript(c: Palette, pt: PointSize) -> str:
    return f"""
QScrollArea#transcript {{ background: {c.surface}; border: none; }}
QWidget#transcriptPage {{ background: {c.surface}; }}
QWidget#contextMarker QLabel {{ color: {c.text_muted}; font-size: {pt(TYPE.caption)}; }}
QFrame#contextRule {{ background: {c.border}; border: none; }}
"""


def _turn(c: Palette, pt: PointSize) -> str:
    return f"""
QFrame#userBubble {{ background: {c.user_bubble}; border-radius: {RADII.lg}px; }}
QLabel#userMessage, QTextBrowser#prose {{
    font-size: {pt(TYPE.body)};
    selection-background-color: {c.selection}; selection-color: {c.text};
}}
QLabel#userMessage {{ color: {c.user_text}; }}
QTextBrowser#prose {{ color: {c.text}; }}
QLabel#roleMark {{
    color: {c.text_muted}; font-size: {pt(TYPE.small)}; font-weight: {TYPE.weight_bold};
}}
QToolButton#reasoningToggle {{
    color: {c.text_muted}; font-size: {pt(TYPE.small)}; padding: 3px 8px 3px 4px;
}}
QToolButton#reasoningToggle:hover {{ color: {c.text}; }}
QToolButton#reasoningToggle:focus {{ padding: 2px 7px 2px 3px; }}
QFrame#reasoningBox {{ border: none; border-left: 2px solid {c.border}; }}
QTextBrowser#reasoning {{
    color: {c.text_muted}; font-size: {pt(TYPE.small)};
    selection-background-color: {c.selection}; selection-color: {c.text};
}}
QFrame#turnError {{
    background: {c.danger_soft}; border: 1px solid {mix(c.danger, c.danger_soft, 0.55)};
    border-radius: {RADII.md}px;
}}
QFrame#turnError QLabel {{ color: {c.text}; }}
QLabel#turnStatus {{ color: {c.text_muted}; font-size: {pt(TYPE.caption)}; }}
QToolButton#messageAction {{ color: {c.text_muted}; padding: 4px; }}
QToolButton#messageAction:focus {{ padding: 3px; }}
"""


def _tool_cards(c: Palette, pt: PointSize) -> str:
    return f"""
QPushButton#toolCard {{
    background: {c.raised}; border: 1px solid {c.border}; border-radius: {RADII.md}px;
    padding: 0; text-align: left;
}}
QPushButton#toolCard:hover {{ background: {c.hover}; }}
QPushButton#toolCard:focus {{ border: 2px solid {c.focus}; padding: 0; }}
QPushButton#toolCard QLabel {{ font-size: {pt(TYPE.small)}; }}
QLabel#toolName {{ color: {c.text}; font-weight: {TYPE.weight_bold}; }}
QLabel#toolArgs {{ color: {c.text_muted}; font-family: monospace; }}
QLabel#toolState {{ color: {c.text_muted}; }}
QLabel#toolState[state="done"] {{ color: {c.success}; }}
QLabel#toolState[state="error"], QLabel#toolState[state="denied"] {{ color: {c.danger}; }}
QLabel#toolState[state="waiting"] {{ color: {c.warning}; }}
QLabel#toolServer {{ color: {c.text_muted}; }}
QLabel#toolDuration {{ color: {c.text_muted}; font-size: {pt(TYPE.caption)}; }}
"""


def _approval_cards(c: Palette, pt: PointSize) -> str:
    return f"""
QFrame#approvalCard {{
    background: {mix(c.raised, c.warning, 0.06)};
    border: 1px solid {mix(c.border, c.warning, 0.45)}; border-radius: {RADII.md}px;
}}
QLabel#approvalTitle {{ color: {c.text}; font-size: {pt(TYPE.body)}; }}
QLabel#approvalNote, QLabel#approvalState {{ color: {c.text_muted}; font-size: {pt(TYPE.small)}; }}
QLabel#approvalSource {{
    border-radius: {RADII.sm + 2}px; padding: 1px {SPACING.sm}px;
    font-size: {pt(TYPE.caption)}; font-weight: {TYPE.weight_medium};
    color: {c.text_muted}; background: {c.hover};
}}
QLabel#approvalError {{ color: {c.danger}; font-size: {pt(TYPE.small)}; }}
"""


def _tool_panel(c: Palette, pt: PointSize) -> str:
    done_bg = mix(c.surface, c.success, 0.14)  # as the list rows' chips (tool_panel_rows)
    waiting_bg = mix(c.surface, c.warning, 0.14)
    return f"""
QWidget#toolPanel, QWidget#toolDetailsPage {{ background: {c.surface}; }}
QScrollArea#toolDetails {{ background: {c.surface}; border: none; }}
QListWidget#toolCallList {{
    background: {c.surface}; border: none; outline: 0; padding: {SPACING.xs}px 0;
}}
QLabel#toolPanelEmpty {{ color: {c.text_muted}; font-size: {pt(TYPE.small)}; }}
QLabel#toolPanelName {{
    color: {c.text}; font-size: {pt(TYPE.body)}; font-weight: {TYPE.weight_bold};
}}
QLabel#toolChip {{
    border-radius: {RADII.sm + 2}px; padding: 1px {SPACING.sm}px;
    font-size: {pt(TYPE.caption)}; font-weight: {TYPE.weight_medium};
    color: {c.accent}; background: {c.accent_soft};
}}
QLabel#toolChip[state="done"] {{ color: {c.success}; background: {done_bg}; }}
QLabel#toolChip[state="error"], QLabel#toolChip[state="denied"] {{
    color: {c.danger}; background: {c.danger_soft};
}}
QLabel#toolChip[state="waiting"] {{ color: {c.warning}; background: {waiting_bg}; }}
QLabel#toolServerChip {{
    border-radius: {RADII.sm + 2}px; padding: 1px {SPACING.sm}px;
    font-size: {pt(TYPE.caption)}; color: {c.text_muted}; background: {c.hover};
}}
QLabel#toolMetaKey {{ color: {c.text_muted}; font-size: {pt(TYPE.caption)}; }}
QLabel#toolMetaValue {{ color: {c.text_muted}; font-size: {pt(TYPE.caption)}; }}
QLabel#toolSection {{
    color: {c.text_muted}; font-size: {pt(TYPE.caption)}; font-weight: {TYPE.weight_bold};
}}
QPlainTextEdit#toolCode {{
    background: {c.code_bg}; color: {c.text};
    border: 1px solid {c.border}; border-radius: {RADII.md}px;
    padding: {SPACING.xs}px {SPACING.sm}px; font-size: {pt(TYPE.small)};
}}
QPlainTextEdit#toolCode:focus {{
    border: 2px solid {c.focus}; padding: {SPACING.xs - 1}px {SPACING.sm - 1}px;
}}
QFrame#toolErrorBox {{
    background: {c.danger_soft}; border: 1px solid {mix(c.danger, c.danger_soft, 0.55)};
    border-radius: {RADII.md}px;
}}
QLabel#toolErrorText {{ color: {c.text}; font-size: {pt(TYPE.small)}; }}
QLabel#webUiLink {{
    color: {c.text_muted}; font-size: {pt(TYPE.caption)};
    padding: {SPACING.sm}px {SPACING.lg}px; border-top: 1px solid {c.border};
    background: {c.surface};
}}
"""


def _code_blocks(c: Palette, pt: PointSize) -> str:
    return f"""
QLabel#codeLanguage {{
    color: {c.text_muted}; font-size: {pt(TYPE.caption)};
}}
QToolButton#codeAction {{
    color: {c.text_muted}; font-size: {pt(TYPE.caption)}; padding: 2px {SPACING.xs + 2}px;
}}
QToolButton#codeAction:hover {{ color: {c.text}; background: {c.hover}; }}
QToolButton#codeAction:checked {{ color: {c.text}; background: {c.accent_soft}; }}
QToolButton#codeAction:focus {{ padding: 1px {SPACING.xs + 1}px; }}
"""


def _settings(c: Palette, pt: PointSize) -> str:
    chip = f"border-radius: {RADII.sm + 2}px; padding: 1px {SPACING.sm}px;"
    ready_bg = mix(c.surface, c.success, 0.14)
    return f"""
QLabel#settingsNote {{ color: {c.text_muted}; }}
QLabel#settingsNote[state="error"], QLabel#settingsError {{ color: {c.danger}; }}
QLabel#settingsSection {{ font-weight: {TYPE.weight_bold}; }}
QFrame#mcpServerRow {{
    background: {c.raised}; border: 1px solid {c.border}; border-radius: {RADII.md}px;
}}
QLabel#mcpServerName {{ font-weight: {TYPE.weight_bold}; }}
QLabel#mcpServerTools {{ color: {c.text_muted}; }}
QLabel#mcpServerError {{ color: {c.danger}; }}
QLabel#mcpServerStderr {{
    color: {c.text_muted}; background: {c.code_bg}; border-radius: {RADII.sm}px;
    padding: {SPACING.xs}px {SPACING.sm}px; font-size: {pt(TYPE.small)};
}}
QLabel#mcpStatusChip {{
    {chip} font-size: {pt(TYPE.caption)}; font-weight: {TYPE.weight_medium};
    color: {c.accent}; background: {c.accent_soft};
}}
QLabel#mcpStatusChip[state="ready"] {{ color: {c.success}; background: {ready_bg}; }}
QLabel#mcpStatusChip[state="failed"] {{ color: {c.danger}; background: {c.danger_soft}; }}
QLabel#mcpStatusChip[state="disabled"] {{ color: {c.text_muted}; background: {c.hover}; }}
"""
