"""Export and Import from the window, and the mark where the model's context begins."""

from __future__ import annotations

import json
from pathlib import Path

import qasync
from pytestqt.qtbot import QtBot

from backend.client.store import ConversationStore
from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from backend.workflows.conversation_types import Turn
from desktop.main_window import MainWindow
from tests.desktop.conftest import close_own_window, until
from tests.desktop.test_conversation_list import chat


def test_a_conversation_exports_and_imports_through_the_menus(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario() -> None:
        cid = await chat(window, qtbot, "export me: marmalade recipe [demo tokens=3]")
        markdown = tmp_path / "marmalade.md"
        window.export_conversation(cid, markdown, "markdown")
        assert window.status_label.text() == f"Exported 1 conversation(s) to {markdown}"
        text = markdown.read_text()
        assert "export me: marmalade recipe" in text and "w1 w2 w3" in text
        assert markdown.stat().st_mode & 0o777 == 0o600

        exported = tmp_path / "marmalade.json"
        window.export_conversation(cid, exported, "json")
        # Imported under another id, it is a second conversation with the same turns.
        data = json.loads(exported.read_text())
        data["conversations"][0]["conversation_id"] = "conversation-imported-copy"
        data["conversations"][0]["title"] = "An imported copy"
        copy = tmp_path / "copy.json"
        copy.write_text(json.dumps(data))
        window.import_file(copy)
        assert window.status_label.text() == "Imported 1 conversation(s) from a DuraChat export"
        await until(
            lambda: "conversation-imported-copy" in window.conversation_list.ids(), 10, "listed"
        )
        window.open_conversation("conversation-imported-copy")
        await until(lambda: len(window.transcript.widgets) == 1, 10, "shown")

        # A file that is neither export says so in one line; nothing changes.
        bad = tmp_path / "notes.txt"
        bad.write_text("just some notes")
        before = window.conversation_list.ids()
        window.import_file(bad)
        assert window.status_label.text().startswith("Not imported: ")
        assert "\n" not in window.status_label.text()
        assert window.conversation_list.ids() == before

    loop.run_until_complete(scenario())


def test_the_file_menu_offers_import_and_export(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        await chat(window, qtbot, "menu export [demo tokens=2]")
        file_menu = next(
            m for m in window.menuBar().actions() if m.text().replace("&", "") == "File"
        )
        names = [a.text().replace("&", "") for a in file_menu.menu().actions()]
        assert names == ["Import…", "Export conversation…"]

    loop.run_until_complete(scenario())


def test_the_transcript_marks_where_the_models_context_begins(
    window: MainWindow, loop: qasync.QEventLoop
) -> None:
    turns = [
        ExportedTurn(turn_id=f"t{n}", user_text=f"message {n}", reply=f"reply {n}", status="done")
        for n in range(5)
    ]
    window.store.import_conversation(
        ExportedConversation(
            conversation_id="conversation-long-one",
            title="A long one",
            created_at=1.0,
            updated_at=2.0,
            context_starts_at="t3",
            turns=turns,
        )
    )

    async def scenario() -> None:
        await window.refresh_conversations()
        window.open_conversation("conversation-long-one")
        await until(lambda: len(window.transcript.widgets) == 5, 10, "shown")
        marked = [
            turn_id
            for turn_id, widget in window.transcript.widgets.items()
            if not widget.context_marker.isHidden()
        ]
        assert marked == ["t3"]

    loop.run_until_complete(scenario())


def test_the_list_is_complete_at_the_first_paint_before_the_backend_is_up(
    tmp_path: Path, loop: qasync.QEventLoop
) -> None:
    """After a restart or a crash the list comes from the store at once: the user does
    not wait for Temporal, Redis or the worker to see (and open) a conversation."""
    data = DataDir(tmp_path / "data").ensure()
    with ConversationStore.in_data_dir(data.root) as store:
        for n in range(30):
            store.record_turn(
                f"conversation-{n}",
                Turn(
                    turn_id=f"m{n}",
                    user_text=f"topic {n}",
                    reply="noted",
                    status="done",
                    queued_at=n + 1,
                    ended_at=n + 1,
                ),
            )
    win = MainWindow(data, SupervisorOptions(data_dir=data))
    ready: list[bool] = []
    win.ready.connect(lambda: ready.append(True))
    win.show()
    win.start()
    assert not ready and win.client is None  # the backend is still starting
    assert win.conversation_list.ids() == [f"conversation-{n}" for n in reversed(range(30))]
    win.open_conversation("conversation-7")
    loop.run_until_complete(until(lambda: len(win.transcript.widgets) == 1, 10, "shown"))
    loop.run_until_complete(until(lambda: ready, 60, "window ready"))
    close_own_window(win, loop)
