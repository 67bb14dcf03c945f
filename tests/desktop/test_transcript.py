"""The transcript as a user reads it: Markdown and highlighted code as tokens arrive,
reasoning, Stop, queued messages, failed turns with Retry, following the stream."""

from __future__ import annotations

import inspect
import time

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractSlider, QApplication, QWidget
from pytestqt.qtbot import QtBot

from backend.client.api import DuraChatClient
from backend.demo_model.script import CODE_REPLY, counted_tokens, split_tokens
from backend.stream.events import TextDelta, TurnStarted
from desktop.chat import reply_segments
from desktop.chat.code_block import CodeBlock
from desktop.chat.code_highlight import colours, highlight_html, highlight_lines
from desktop.chat.reply_segments import Segment, split_reply
from desktop.chat.reply_view import ProseBlock, ReplyView
from desktop.chat.transcript_model import TranscriptModel
from desktop.chat.transcript_view import TranscriptView, TurnWidget
from desktop.chat.turn_status import QUEUED_BEHIND
from desktop.main_window import MainWindow
from tests.desktop.conftest import SettledTurns, type_and_send, until

FIB_CODE = CODE_REPLY.split("```python\n", 1)[1].split("\n```", 1)[0]


def client_of(win: MainWindow) -> DuraChatClient:
    assert isinstance(win.client, DuraChatClient)
    return win.client


# -- splitting a reply ---------------------------------------------------------------------


def test_a_reply_splits_into_prose_and_fenced_code() -> None:
    text = "Intro *text*:\n\n```python\nx = 1\n\nprint(x)\n```\n\nBetween.\n~~~\nraw\n~~~\nEnd."
    assert split_reply(text) == [
        Segment("prose", "Intro *text*:\n\n", 0),
        Segment("code", "x = 1\n\nprint(x)", 15, "python"),
        Segment("prose", "\nBetween.\n", 45),
        Segment("code", "raw", 55),
        Segment("prose", "End.", 67),
    ]


def test_fences_follow_commonmark() -> None:
    # Indented up to three spaces, content loses that indentation; a longer fence closes,
    # a shorter one or one of the other character is code.
    assert split_reply("  ````js x\n  a\n b\n```\n~~~~\n`````\nc") == [
        Segment("code", "a\nb\n```\n~~~~", 0, "js"),
        Segment("prose", "c", 33),
    ]
    # Inline code and four-space indents are not fences.
    assert split_reply("```a``` b\n    ```\n    c") == [
        Segment("prose", "```a``` b\n    ```\n    c", 0)
    ]


def test_a_code_block_still_streaming_runs_to_the_end() -> None:
    assert split_reply("See:\n```sh\nls -") == [
        Segment("prose", "See:\n", 0),
        Segment("code", "ls -", 5, "sh", closed=False),
    ]
    assert split_reply("See:\n``") == [Segment("prose", "See:\n``", 0)]


# -- highlighting code ---------------------------------------------------------------------


def test_highlighted_html_has_inline_colours_and_each_palette_its_background() -> None:
    html = highlight_html("def f():\n    return 1", "python", dark=False)
    assert "class=" not in html and 'style="color:' in html
    assert html.startswith("<pre") and "def</span>" in html
    assert highlight_html("a < b", "no-such-language", dark=True).count("&lt;") == 1
    dark, light = colours(True), colours(False)
    assert QColor(dark.background).lightness() < 64 < 192 < QColor(light.background).lightness()
    assert QColor(dark.foreground).lightness() > 128 > QColor(light.foreground).lightness()


def test_highlighting_says_per_line_where_lexing_may_start_over() -> None:
    code = 'def f():\n    """Doc\n\n    more"""\n    return 1  # one\n'
    lines = highlight_lines(code, "python", dark=False)
    assert len(lines.html) == len(lines.resumable) == len(code.split("\n"))
    assert "def</span>" in lines.html[0] and "more" in lines.html[3]
    # Inside the docstring (the blank line too) lexing must not start over.
    assert lines.resumable == [True, True, False, False, True, False]


# -- the reply widget, fed as a stream would feed it ---------------------------------------


def test_streaming_a_reply_renders_only_its_end(qtbot: QtBot) -> None:
    view = ReplyView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    text = (
        "Some **bold** prose and a [link](https://example.org).\n\n"
        "```python\ndef f(x: int) -> int:\n    return x * 2\n```\n"
        "Middle text.\n\n~~~\nplain block\n~~~\n\nThe end."
    )
    first_blocks: list[QWidget] = []
    for end in range(1, len(text) + 1, 3):
        view.set_markdown(text[:end])
        # Incremental splitting agrees with splitting the whole text at every step.
        assert view.segments == split_reply(text[:end])
        assert [b.kind for b in view.blocks] == [s.kind for s in view.segments]
        if len(view.blocks) > 1 and not first_blocks:
            first_blocks = list(view.blocks[:1])
    view.set_markdown(text)
    QApplication.processEvents()  # laid out at the view's width, as on screen
    assert view.blocks[0] is first_blocks[0]  # the finished paragraph was never rebuilt
    prose, code, middle, plain, last = view.blocks
    assert isinstance(prose, ProseBlock) and isinstance(code, CodeBlock)
    assert isinstance(middle, ProseBlock) and middle.toPlainText() == "Middle text."
    assert prose.toPlainText() == "Some bold prose and a link."
    # The link is a link where it is drawn, and the text can be selected with the mouse.
    inside_link = prose.document().find("link")
    inside_link.setPosition(inside_link.selectionStart() + 2)
    assert prose.anchorAt(prose.cursorRect(inside_link).center()) == "https://example.org"
    assert prose.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse
    assert prose.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert code.code == "def f(x: int) -> int:\n    return x * 2" and code.closed
    assert code.language_label.text() == "python"
    assert isinstance(plain, CodeBlock) and plain.language_label.text() == "code"
    assert isinstance(last, ProseBlock) and last.toPlainText() == "The end."
    assert view.text().splitlines()[-1] == "The end."
    # A rewritten reply (a retried model call) replaces what no longer holds.
    view.set_markdown("Only prose now.")
    assert [b.kind for b in view.blocks] == ["prose"] and view.text() == "Only prose now."


def test_code_colours_follow_a_dark_or_light_palette(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    view = ReplyView(holder)
    view.resize(400, 200)
    holder.show()
    view.set_markdown("```python\nx = 1\n```")
    (block,) = view.code_blocks

    def background() -> QColor:
        image = block.grab().toImage()
        return image.pixelColor(block.width() // 2, block.height() - 3)

    for dark in (True, False):
        palette = QPalette(holder.palette())
        palette.setColor(QPalette.ColorRole.Window, QColor("#202020" if dark else "#f0f0f0"))
        holder.setPalette(palette)
        assert background().name() == colours(dark).background


def char_formats(block: CodeBlock) -> list[tuple[str, str, int, bool]]:
    """Every character of a code block with the colour, weight and slant it is shown in."""
    shown: list[tuple[str, str, int, bool]] = []
    paragraph = block.view.document().begin()
    while paragraph.isValid():
        fragments = paragraph.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            f = fragment.charFormat()
            style = (f.foreground().color().name(), int(f.fontWeight()), f.fontItalic())
            shown += [(char, *style) for char in fragment.text()]
            fragments += 1
        shown.append(("\n", "", 0, False))
        paragraph = paragraph.next()
    return shown


def test_a_streamed_code_block_ends_highlighted_as_if_shown_at_once(qtbot: QtBot) -> None:
    code = inspect.getsource(reply_segments) + FIB_CODE
    view = ReplyView()
    qtbot.addWidget(view)
    text = ""
    for token in split_tokens(f"Code:\n```python\n{code}\n```\n"):  # as the model streams
        text += token
        view.set_markdown(text)
    (streamed,) = view.code_blocks
    at_once = CodeBlock()
    qtbot.addWidget(at_once)
    at_once.show_segment(Segment("code", code, 0, "python"))
    assert streamed.code == code and streamed.visible_text() == code == at_once.visible_text()
    assert char_formats(streamed) == char_formats(at_once)


def test_a_long_code_block_streams_at_a_small_cost_per_frame(qtbot: QtBot) -> None:
    """Only what arrived is highlighted, however long the block already is."""
    model = TranscriptModel()
    model.clear("conversation-c")
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    code = (inspect.getsource(reply_segments) + FIB_CODE + "\n") * 9  # ~800 lines

    def event(kind: type[TurnStarted] | type[TextDelta], text: str) -> None:
        model.apply_event(kind(conversation_id="conversation-c", turn_id="t", call=0, text=text))

    event(TurnStarted, "code please")
    event(TextDelta, "Warm-up:\n```python\nx = 1\n```\n")  # loads the lexer: not per frame
    model.flush()
    QApplication.processEvents()
    reply = f"```python\n{code}```\nDone."
    frame_ms: list[float] = []
    for start in range(0, len(reply), 150):  # ~2000 tokens/s at 60 frames/s
        began = time.perf_counter()
        event(TextDelta, reply[start : start + 150])
        model.flush()
        QApplication.processEvents()
        frame_ms.append((time.perf_counter() - began) * 1000)
    (_, block) = view.widgets["t"].reply.code_blocks
    assert block.code == code.removesuffix("\n") and block.closed
    ranked = sorted(frame_ms)
    print(
        f"\n{len(frame_ms)} frames streaming {code.count(chr(10))} lines of code: "
        f"max {ranked[-1]:.1f} ms, p99 {ranked[int(len(ranked) * 0.99)]:.1f} ms, "
        f"median {ranked[len(ranked) // 2]:.1f} ms"
    )
    # The work, not the clock (the clock belongs to a loaded CI machine): re-highlighting
    # the whole block every frame would hand pygments about frames * length / 2 chars.
    print(f"highlighted {block.highlighted_chars} chars for {len(code)} of code")
    assert block.highlighted_chars < 3 * len(code)


# -- the real window against the real backend ----------------------------------------------


def test_code_streams_highlighted_with_a_copy_button_and_survives_a_reload(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, "[demo tps=40] write python code")
        (turn_id,) = window.model.turns
        widget = lambda: window.transcript.widgets.get(turn_id)  # noqa: E731

        def open_block() -> CodeBlock | None:
            w = widget()
            blocks = w.reply.code_blocks if w else []
            return blocks[0] if blocks and not blocks[0].closed and blocks[0].code else None

        # While streaming, the unterminated block is already a highlighted code block.
        await until(open_block, 20, "a code block still streaming")
        partial = open_block()
        assert partial is not None and FIB_CODE.startswith(partial.code)
        assert partial.visible_text() == partial.code
        assert window.model.turns[turn_id].status == "running"
        intro = widget().reply.blocks[0]

        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")
        assert await settled.status_of(turn_id, 5) == "done"  # the durable version shown
        w = widget()
        assert w.reply_markdown == CODE_REPLY
        assert w.reply.blocks[0] is intro  # kept, not rebuilt, while the rest streamed
        (block,) = w.reply.code_blocks
        assert block.code == FIB_CODE and block.closed
        assert block.language_label.text() == "python"
        assert block.visible_text() == FIB_CODE
        # Keywords are coloured, unlike plain names.
        doc = block.view.document()
        keyword = doc.find("def").charFormat().foreground().color()
        name = doc.find("numbers").charFormat().foreground().color()
        assert keyword != name
        # The prose around it is rendered Markdown: no backticks, no fences.
        shown = w.reply.text()
        assert "Here is a small Python example from the demo model:" in shown
        assert "Running it prints [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]." in shown
        assert "```" not in shown

        QGuiApplication.clipboard().clear()
        qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == FIB_CODE
        assert block.copy_button.text() == "Copied"

        conversation_id = window.conversation_id
        assert conversation_id is not None
        window.new_conversation()
        window.open_conversation(conversation_id)
        await until(lambda: turn_id in window.transcript.widgets, 10, "reload")
        reloaded = window.transcript.widgets[turn_id]
        assert reloaded.reply.text() == shown
        assert [b.code for b in reloaded.reply.code_blocks] == [FIB_CODE]

    loop.run_until_complete(scenario())


def test_reasoning_streams_into_a_collapsible_block_above_the_reply(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    reasoning = "".join(counted_tokens(20, prefix="r"))

    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, "[demo reasoning=20 tokens=20 tps=100]")
        (turn_id,) = window.model.turns
        widget = lambda: window.transcript.widgets.get(turn_id)  # noqa: E731
        await until(
            lambda: widget() is not None and "r3 " in widget().reasoning.toPlainText(),
            20,
            "reasoning",
        )
        w = widget()
        assert window.model.turns[turn_id].status == "running"
        assert reasoning.startswith(w.reasoning.toPlainText())
        assert w.reasoning.isVisible() and w.reasoning_toggle.isVisible()

        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")
        assert await settled.status_of(turn_id, 5) == "done"  # the durable version shown
        assert w.reasoning.toPlainText() == reasoning
        assert w.reply.text() == "".join(counted_tokens(20)).strip()
        assert w.reasoning.y() < w.reply.y()

        qtbot.mouseClick(w.reasoning_toggle, Qt.MouseButton.LeftButton)
        assert not w.reasoning.isVisible() and w.reasoning_toggle.isVisible()
        assert w.reasoning_toggle.arrowType() == Qt.ArrowType.RightArrow
        qtbot.mouseClick(w.reasoning_toggle, Qt.MouseButton.LeftButton)
        assert w.reasoning.isVisible() and w.reasoning.toPlainText() == reasoning

    loop.run_until_complete(scenario())


def test_escape_stops_the_turn_and_keeps_the_durable_partial_reply(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    full = "".join(counted_tokens(400))

    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, "[demo tokens=400 tps=50]")
        (turn_id,) = window.model.turns
        widget = lambda: window.transcript.widgets.get(turn_id)  # noqa: E731
        await until(lambda: widget() is not None and "w5 " in widget().reply_markdown, 20)
        assert widget().status.text() == "generating…"

        qtbot.keyClick(window.composer, Qt.Key.Key_Escape)
        await until(lambda: window.model.turns[turn_id].status == "stopped", 20, "stopped")
        assert await settled.status_of(turn_id, 5) == "stopped"  # the durable version shown
        assert window.conversation_id is not None
        (turn,) = (await client_of(window).history(window.conversation_id)).turns
        assert turn.status == "stopped"
        assert "w5 " in turn.reply and full.startswith(turn.reply) and turn.reply != full
        w = widget()
        assert w.reply_markdown == turn.reply
        assert w.reply.text() == turn.reply.strip()
        assert w.status.isVisible() and "stopped" in w.status.text()
        assert not w.error_box.isVisible()

    loop.run_until_complete(scenario())


def test_a_message_sent_during_a_reply_shows_as_queued_until_it_starts(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, "[demo tokens=150 tps=60]")
        (first,) = window.model.turns
        await until(lambda: window.model.turns[first].status == "running", 20, "first running")
        type_and_send(qtbot, window, "[demo tokens=5]")
        _, second = window.model.turns
        widgets = window.transcript.widgets

        def queued_behind() -> bool:
            w = widgets.get(second)
            return w is not None and w.status.text() == QUEUED_BEHIND

        await until(queued_behind, 10, "the second message queued")
        await until(lambda: second not in window.outbox, 10, "the backend has it")
        assert window.conversation_id is not None
        view = await client_of(window).history(window.conversation_id)
        assert [t.status for t in view.turns] == ["running", "queued"]  # queued by the backend
        assert widgets[second].status.isVisible()
        assert widgets[first].status.text() != QUEUED_BEHIND

        await until(lambda: window.model.turns[second].status == "done", 20, "second done")
        assert await settled.status_of(second, 5) == "done"  # the durable version shown
        assert window.model.turns[first].status == "done"
        assert widgets[second].status.text() != QUEUED_BEHIND
        assert widgets[first].reply_markdown == "".join(counted_tokens(150))
        assert widgets[second].reply_markdown == "".join(counted_tokens(5))

    loop.run_until_complete(scenario())


def test_a_failed_turn_shows_its_error_inline_with_retry(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    message = "[demo fault=401]"

    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, message)
        (turn_id,) = window.model.turns
        await until(lambda: window.model.turns[turn_id].status == "failed", 20, "failed")
        assert await settled.status_of(turn_id, 5) == "failed"  # the durable version shown
        w: TurnWidget = window.transcript.widgets[turn_id]
        assert w.error_box.isVisible() and w.retry_button.isVisible()
        shown = w.error_label.text()
        assert shown.startswith("The provider rejected the API key")
        assert "(auth)" in shown and "401" in shown and "Check the API key" in shown
        assert "failed" in w.status.text()

        with qtbot.waitSignal(window.transcript.retry_requested, timeout=1000) as retry:
            qtbot.mouseClick(w.retry_button, Qt.MouseButton.LeftButton)
        assert retry.args == [message]

        # Reloaded from the durable history, the error reads the same.
        conversation_id = window.conversation_id
        assert conversation_id is not None
        window.new_conversation()
        window.open_conversation(conversation_id)

        def reloaded_shown() -> bool:
            w = window.transcript.widgets.get(turn_id)
            return w is not None and w.isVisible()

        await until(reloaded_shown, 10, "reload")
        reloaded = window.transcript.widgets[turn_id]
        assert reloaded.error_label.text() == shown and reloaded.retry_button.isVisible()

    loop.run_until_complete(scenario())


def test_scrolling_follows_the_stream_unless_the_user_scrolled_up(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    bar = window.transcript.verticalScrollBar()

    async def scenario() -> None:
        type_and_send(qtbot, window, "[demo tokens=4000 tps=1000]")
        (turn_id,) = window.model.turns
        running = lambda: window.model.turns[turn_id].status == "running"  # noqa: E731
        await until(lambda: bar.maximum() > 100, 20, "a reply taller than the view")
        await until(lambda: bar.maximum() > 200, 10, "the reply to grow")
        assert running() and bar.value() == bar.maximum()  # following

        bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)
        grown = bar.maximum() + 100
        await until(lambda: bar.maximum() > grown, 10, "more of the reply")
        assert running() and bar.value() == 0  # left where the user put it

        bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)
        grown = bar.maximum() + 100
        await until(lambda: bar.maximum() > grown, 10, "more of the reply")
        assert bar.value() == bar.maximum()  # following again
        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")

    loop.run_until_complete(scenario())
