"""The transcript as a user sees it: a conversation of bubbles and replies, Markdown
rendered in full, code blocks with Wrap and Copy, message actions, icons, and the light
and dark style sheets made from the design tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QTextFormat, QTextTable
from PySide6.QtWidgets import QApplication, QPushButton, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop.chat.code_block import CodeBlock
from desktop.chat.reply_segments import Segment
from desktop.chat.reply_view import ProseBlock
from desktop.chat.tool_card import ToolCard
from desktop.chat.transcript_model import ToolCallItem, TranscriptModel, TurnItem
from desktop.chat.transcript_view import TranscriptView, TurnWidget
from desktop.settings.theme import apply_theme
from desktop.style import icons
from desktop.style.stylesheet import stylesheet
from desktop.style.tokens import DARK, LIGHT, PALETTES, Palette, Scheme

DESKTOP = Path(__file__).resolve().parents[3] / "desktop"


@pytest.fixture
def theme(qapp: QApplication) -> Iterator[Callable[[Scheme], Palette]]:
    """Applies a theme to the application; puts the previous look back afterwards."""
    sheet, palette = qapp.styleSheet(), qapp.palette()

    def apply(scheme: Scheme) -> Palette:
        apply_theme(qapp, scheme)
        return PALETTES[scheme]

    yield apply
    qapp.styleHints().unsetColorScheme()
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def done_turn(turn_id: str, user: str, reply: str) -> TurnItem:
    turn = TurnItem(turn_id, user)
    turn.status, turn.reply = "done", reply
    return turn


def transcript(qtbot: QtBot, *turns: TurnItem, width: int = 800) -> TranscriptView:
    model = TranscriptModel()
    model.clear("conversation-look")
    for turn in turns:
        model.turns[turn.turn_id] = turn
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(width, 900)
    view.show()
    view.rebuild()  # as when a conversation is opened
    settle()
    return view


def settle() -> None:
    for _ in range(3):  # layouts that size text blocks settle over a few passes
        QApplication.processEvents()


def pixel(widget: QWidget, point: QPoint) -> str:
    """The colour drawn at ``point`` of ``widget`` (its own coordinates)."""
    image: QImage = widget.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(int(point.x() * ratio), int(point.y() * ratio)).name()


def add(view: TranscriptView, turn: TurnItem) -> None:
    """A turn new or changed, as the model announces it."""
    view.model.turns[turn.turn_id] = turn
    view.model.turns_changed.emit([turn.turn_id])


# -- a conversation ------------------------------------------------------------------------


def test_the_users_bubble_is_on_the_right_and_unlike_the_reply(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    for scheme in ("light", "dark"):
        colors = theme(scheme)
        view = transcript(qtbot, done_turn("t1", "Hello there", "A reply on the left."))
        turn = view.widgets["t1"]
        bubble, reply = turn.user_bubble, turn.reply
        left = bubble.mapTo(turn, QPoint(0, 0)).x()
        # Right-aligned: flush with the column's right edge, far from its left.
        assert left + bubble.width() == turn.width()
        assert left > turn.width() // 2
        assert reply.mapTo(turn, QPoint(0, 0)).x() == 0
        assert reply.width() == turn.width()  # the reply takes the full column
        # Visibly different: the bubble's own colour against the page's.
        inside_bubble = pixel(view, bubble.mapTo(view, QPoint(4, bubble.height() // 2)))
        beside_reply = pixel(view, reply.mapTo(view, QPoint(reply.width() - 4, 2)))
        assert inside_bubble == colors.user_bubble
        assert beside_reply == colors.surface
        assert inside_bubble != beside_reply
        # The text stays selectable.
        assert turn.user.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        assert turn.user.text() == "Hello there"


def test_a_long_message_wraps_in_a_bubble_three_quarters_of_the_column(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    long_text = "word " * 200
    view = transcript(qtbot, done_turn("t1", long_text, "ok"), done_turn("t2", "hi", "ok"))
    long_bubble, short_bubble = view.widgets["t1"].user_bubble, view.widgets["t2"].user_bubble
    column = view.widgets["t1"].width()
    assert long_bubble.width() == int(column * 0.75)
    assert long_bubble.height() > 3 * short_bubble.height()  # wrapped over many lines
    assert short_bubble.width() < column // 4


def test_the_assistant_side_has_a_role_mark_and_a_model_name_when_given(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    view = transcript(qtbot, done_turn("t1", "hi", "hello"))
    mark = view.widgets["t1"].role_mark
    assert mark.isVisible() and mark.label.text() == "Assistant"
    assert mark.y() < view.widgets["t1"].reply.y()
    view.set_assistant_name("gpt-4o-mini")
    assert mark.label.text() == "gpt-4o-mini"


# -- message actions -----------------------------------------------------------------------


def test_copy_puts_the_replys_markdown_on_the_clipboard(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    markdown = "Some **bold** and `code`:\n\n```python\nx = 1\n```\n"
    view = transcript(qtbot, done_turn("t1", "a question", markdown))
    turn = view.widgets["t1"]
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(turn.reply_copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == markdown
    assert turn.reply_copy.copied and turn.reply_copy.toolTip() == "Copied"
    assert turn.reply_copy.accessibleName() == "Copy reply"

    qtbot.mouseClick(turn.user_copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "a question"
    assert turn.user_copy.accessibleName() == "Copy message"
    qtbot.waitUntil(lambda: not turn.reply_copy.copied, timeout=5000)  # back to Copy
    assert turn.reply_copy.toolTip() == "Copy reply (Markdown)"


def test_retry_is_offered_on_the_last_reply_only_and_sends_its_message_again(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    view = transcript(qtbot, done_turn("t1", "first", "one"), done_turn("t2", "second", "two"))
    first, second = view.widgets["t1"], view.widgets["t2"]
    assert first.reply_retry.isHidden() and not second.reply_retry.isHidden()
    assert second.reply_retry.accessibleName() == "Retry"
    assert second.reply_actions.revealed  # the last reply's actions show without hovering
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as retry:
        qtbot.mouseClick(second.reply_retry, Qt.MouseButton.LeftButton)
    assert retry.args == ["second"]
    # Until the new attempt arrives the turn is shown again (a frame, a refresh): one
    # click is still one resend.
    add(view, done_turn("t2", "second", "two"))
    assert not second.reply_retry.isEnabled()

    # A new turn arrives: it is the last one now, and still generating (no Retry yet).
    running = TurnItem("t3", "third")
    running.status, running.reply = "running", "thr"
    add(view, running)
    settle()
    assert second.reply_retry.isHidden() and view.widgets["t3"].reply_retry.isHidden()
    running.status, running.reply = "done", "three"
    add(view, running)
    assert not view.widgets["t3"].reply_retry.isHidden()


def test_actions_show_on_hover_or_focus_and_never_move_the_transcript(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    view = transcript(qtbot, done_turn("t1", "first", "one"), done_turn("t2", "second", "two"))
    turn = view.widgets["t1"]  # not the last: its actions wait for the pointer
    actions = turn.reply_actions
    assert not actions.revealed
    before = [w.geometry() for w in (turn, turn.reply, turn.footer, view.widgets["t2"])]
    hidden_look = turn.footer.grab().toImage()

    qtbot.mouseMove(turn.reply, QPoint(10, 5))
    qtbot.waitUntil(lambda: actions.revealed, timeout=2000)
    settle()
    assert [w.geometry() for w in (turn, turn.reply, turn.footer, view.widgets["t2"])] == before
    assert turn.footer.grab().toImage() != hidden_look  # the icons are drawn now

    qtbot.mouseMove(view.widgets["t2"].reply, QPoint(10, 5))
    qtbot.waitUntil(lambda: not actions.revealed, timeout=2000)
    # Keyboard: focusing a button of the row reveals it.
    turn.reply_copy.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: actions.revealed, timeout=2000)
    assert turn.reply_copy.focusPolicy() & Qt.FocusPolicy.TabFocus


# -- tool cards, reasoning, errors ---------------------------------------------------------


def test_tool_cards_show_state_and_duration(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    colors = theme("light")
    card = ToolCard("c1")
    qtbot.addWidget(card)
    call = ToolCallItem("c1", "calculator", '{"expression": "12*7"}')
    card.show_call(call)
    card.show()
    assert card.spinner.isVisible() and not card.state_icon.isVisible()
    assert card.name_label.text() == "calculator"
    assert card.args_label.text() == '{"expression": "12*7"}'

    call.status, call.duration_ms, call.output = "done", 1520.0, "84"
    card.show_call(call)
    assert not card.spinner.isVisible() and card.state_icon.isVisible()
    assert card.state_icon.name == "circle-check" and card.duration_label.text() == "1.5 s"
    assert "calculator" in card.text() and "done" in card.text()

    call.status, call.error = "error", "division by zero"
    card.show_call(call)
    assert card.state_icon.name == "circle-x" and card.state_label.text() == "failed"
    assert card.state_label.palette().color(card.state_label.foregroundRole()).name() == (
        colors.danger
    )
    assert card.toolTip() == "division by zero"


def test_a_failed_turn_shows_a_danger_box_with_retry(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    colors = theme("dark")
    failed = TurnItem("t1", "try this")
    failed.status, failed.error_kind, failed.error_message = "failed", "timeout", "took too long"
    view = transcript(qtbot, failed)
    turn: TurnWidget = view.widgets["t1"]
    box = turn.error_box
    assert box.isVisible() and turn.retry_button.isVisible()
    assert "took too long" in turn.error_label.text()
    assert pixel(box, QPoint(box.width() // 2, 3)) == colors.danger_soft
    assert turn.reply_retry.isHidden()  # the inline Retry is the one offered
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as retry:
        qtbot.mouseClick(turn.retry_button, Qt.MouseButton.LeftButton)
    assert retry.args == ["try this"]


# -- Markdown ------------------------------------------------------------------------------

MARKDOWN = """# Title
## Section
### Part

Text with `inline code` and a [link](https://example.org).

- one
- two
  - nested

1. first
2. second

> quoted words

| Name | Value |
|------|------:|
| a    | 1     |
| b    | 2     |

---

End."""


def blocks_of(prose: ProseBlock) -> dict[str, object]:
    found: dict[str, object] = {}
    block = prose.document().begin()
    while block.isValid():
        found[block.text()] = block
        block = block.next()
    return found


def test_markdown_renders_headings_lists_quotes_tables_links_code_and_rules(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    colors = theme("light")
    prose = ProseBlock()
    qtbot.addWidget(prose)
    prose.resize(600, 400)
    prose.show()
    prose.show_segment(Segment("prose", MARKDOWN, 0))
    document = prose.document()
    blocks = blocks_of(prose)

    def size_of(text: str) -> float:
        shown = document.find(text).charFormat()
        return shown.fontPointSize() or document.defaultFont().pointSizeF()

    levels = {t: blocks[t].blockFormat().headingLevel() for t in ("Title", "Section", "Part")}
    assert levels == {"Title": 1, "Section": 2, "Part": 3}
    assert size_of("Title") > size_of("Section") > size_of("Part") > size_of("End.")
    assert document.find("Title").charFormat().fontWeight() >= QFont.Weight.DemiBold

    bullets, nested = blocks["one"].textList(), blocks["nested"].textList()
    assert bullets is not None and nested is not None and nested != bullets
    assert nested.format().indent() == bullets.format().indent() + 1
    assert blocks["first"].textList().format().style().name == "ListDecimal"

    quote = blocks["quoted words"]
    assert quote.blockFormat().intProperty(QTextFormat.Property.BlockQuoteLevel) == 1
    kinds = [d.kind for d in prose._decorations]
    assert kinds == ["quote", "rule"]

    (table,) = [f for f in document.rootFrame().childFrames() if isinstance(f, QTextTable)]
    assert (table.rows(), table.columns()) == (3, 2)
    assert table.format().border() >= 1 and table.format().cellPadding() > 0
    assert table.format().borderBrush().color().name() == colors.border
    header = document.findBlock(table.cellAt(0, 0).firstPosition())
    assert header.text() == "Name"  # no empty line pushing the first header cell down
    assert document.find("Name").charFormat().fontWeight() >= QFont.Weight.DemiBold

    link = document.find("link")
    assert link.charFormat().anchorHref() == "https://example.org"
    assert link.charFormat().foreground().color().name() == colors.accent
    code = document.find("inline code")
    assert code.charFormat().fontFixedPitch()
    assert code.charFormat().background().color().name() == colors.code_inline
    assert prose.toPlainText().count("---") == 0  # the rule is drawn, not written


def test_markdown_is_dressed_again_in_the_other_schemes_colours(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    prose = ProseBlock()
    qtbot.addWidget(prose)
    prose.show_segment(Segment("prose", "See [this](https://example.org).", 0))
    assert prose.document().find("this").charFormat().foreground().color().name() == (LIGHT.accent)
    theme("dark")
    settle()
    assert prose.document().find("this").charFormat().foreground().color().name() == (DARK.accent)


# -- code blocks ---------------------------------------------------------------------------


def test_the_wrap_toggle_switches_between_scrolling_and_wrapping(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("dark")
    block = CodeBlock()
    qtbot.addWidget(block)
    block.resize(400, 200)
    block.show()
    long_line = "result = compute(" + ", ".join(f"argument_{i}" for i in range(30)) + ")"
    block.show_segment(Segment("code", long_line, 0, "python"))
    settle()
    assert not block.wrapped and block.view.lineWrapMode() == QTextEdit.LineWrapMode.NoWrap
    assert block.view.horizontalScrollBar().maximum() > 0  # scrolls sideways
    one_line = block.view.height()

    qtbot.mouseClick(block.wrap_button, Qt.MouseButton.LeftButton)
    settle()
    assert block.wrapped and block.wrap_button.isChecked()
    assert block.view.lineWrapMode() == QTextEdit.LineWrapMode.WidgetWidth
    assert block.view.horizontalScrollBar().maximum() == 0
    assert block.view.height() > one_line  # the line now wraps

    qtbot.mouseClick(block.wrap_button, Qt.MouseButton.LeftButton)
    assert not block.wrapped


def test_code_copy_shows_copied_with_a_check(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    theme("light")
    block = CodeBlock()
    qtbot.addWidget(block)
    block.show_segment(Segment("code", "print('hi')", 0, "python"))
    block.show()
    assert block.copy_button.text() == "Copy" and not block.copy_button.icon().isNull()
    qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "print('hi')"
    assert block.copy_button.text() == "Copied" and block.copied


# -- icons ---------------------------------------------------------------------------------

_ICON_USE = re.compile(
    r"""(?:\bicon|IconLabel|IconButton|set_icon|set_icon_name|icon_url|icon_file)\(\s*"([a-z0-9-]+)\""""
)


def test_every_icon_the_app_names_is_shipped_and_renders_in_its_colour(qapp: QApplication) -> None:
    used = {name for path in DESKTOP.rglob("*.py") for name in _ICON_USE.findall(path.read_text())}
    assert {"copy", "check", "rotate-ccw", "wrench", "brain", "text-wrap"} <= used
    assert used <= icons.NAMES, f"not shipped: {used - icons.NAMES}"
    for name in sorted(icons.NAMES):
        assert icons.svg_path(name).is_file()
        image = icons.icon(name, "#c62828").pixmap(QSize(24, 24)).toImage()
        assert not image.isNull()
        colours = {
            image.pixelColor(x, y).name()
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() == 255
        }
        assert "#c62828" in colours, name
    with pytest.raises(KeyError):
        icons.svg_path("no-such-icon")


def test_icons_are_drawn_at_the_screens_pixel_ratio(qapp: QApplication) -> None:
    pixmap = icons.icon("copy").pixmap(QSize(16, 16), 2.0)
    assert pixmap.size() == QSize(32, 32) and pixmap.devicePixelRatio() == 2.0


def test_the_icon_licence_ships_with_the_icons() -> None:
    licence = icons.LICENSE.read_text()
    assert "ISC License" in licence and "Lucide" in licence


# -- the style sheets ----------------------------------------------------------------------


def test_light_and_dark_style_sheets_are_made_from_their_tokens() -> None:
    light, dark = stylesheet("light"), stylesheet("dark")
    assert light != dark
    for sheet, colors in ((light, LIGHT), (dark, DARK)):
        for role in ("user_bubble", "focus", "danger_soft", "surface", "accent", "scrollbar"):
            assert getattr(colors, role) in sheet, role
    assert LIGHT.user_bubble not in dark and DARK.user_bubble not in light


def test_applying_a_theme_restyles_the_application(
    qapp: QApplication, theme: Callable[[Scheme], Palette]
) -> None:
    for scheme in ("dark", "light"):
        colors = theme(scheme)
        assert qapp.styleSheet() == stylesheet(scheme)
        assert qapp.palette().color(qapp.palette().ColorRole.Window).name() == colors.window
    # "system" follows the platform's colour scheme (the offscreen platform has none).
    apply_theme(qapp, "system")
    system = qapp.styleHints().colorScheme()
    expected = "dark" if system == Qt.ColorScheme.Dark else "light"
    assert qapp.styleSheet() == stylesheet(expected)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_shows_a_ring_in_the_focus_colour(
    qtbot: QtBot, theme: Callable[[Scheme], Palette], scheme: Scheme
) -> None:
    colors = theme(scheme)
    holder = QWidget()
    qtbot.addWidget(holder)
    button = QPushButton("Send", holder)
    other = QPushButton("Other", holder)
    other.move(0, 60)
    holder.resize(200, 120)
    holder.show()
    qtbot.waitExposed(holder)
    other.setFocus()
    unfocused = pixel(button, QPoint(button.width() // 2, 0))
    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=1000)
    focused = pixel(button, QPoint(button.width() // 2, 0))
    assert unfocused != focused == QColor(colors.focus).name()


def test_screen_readers_hear_who_said_what(
    qtbot: QtBot, theme: Callable[[Scheme], Palette]
) -> None:
    """Qt's accessibility tree names each message by its author and its start."""
    from PySide6.QtGui import QAccessible

    theme("light")
    view = transcript(qtbot, done_turn("t1", "What is   12*7?", "It is **84**."))
    turn = view.widgets["t1"]

    def name(widget: QWidget) -> str:
        interface = QAccessible.queryAccessibleInterface(widget)
        assert interface is not None
        return interface.text(QAccessible.Text.Name)

    assert name(turn.user) == "You: What is 12*7?"
    assert name(turn.reply) == "Assistant: It is **84**."
    live = TurnItem("t2", "And 2+2?", status="running", reply="It is")
    add(view, live)
    assert name(view.widgets["t2"].reply) == "Assistant is replying"
    add(view, done_turn("t2", "And 2+2?", "It is 4."))
    assert name(view.widgets["t2"].reply) == "Assistant: It is 4."
