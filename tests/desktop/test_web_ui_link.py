"""The tool panel's link to the conversation in Temporal's Web UI: the client API
makes the address, the panel only shows it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from backend.client.api import web_ui_url
from desktop.chat.tool_panel import ToolPanel
from desktop.chat.transcript_model import TranscriptModel


def test_the_client_api_makes_the_workflow_address_or_none_without_the_ui() -> None:
    assert web_ui_url(None, "conversation-1") is None
    assert web_ui_url("", "conversation-1") is None
    assert (
        web_ui_url("http://127.0.0.1:8233/", "conversation-a b")
        == "http://127.0.0.1:8233/namespaces/default/workflows/conversation-a%20b"
    )


def test_the_panel_links_the_open_conversation_only_when_the_ui_runs(qtbot: QtBot) -> None:
    model = TranscriptModel()
    panel = ToolPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    link = panel.web_ui_link
    panel.set_web_ui(lambda cid: web_ui_url("http://127.0.0.1:8233", cid))
    assert link.isHidden()  # no conversation open yet

    model.clear("conversation-1")
    url = "http://127.0.0.1:8233/namespaces/default/workflows/conversation-1"
    assert link.isVisible() and f'href="{url}"' in link.text() and link.toolTip() == url
    model.clear(None)
    assert link.isHidden()

    model.clear("conversation-2")
    panel.set_web_ui(lambda cid: web_ui_url(None, cid))  # a backend without the Web UI
    assert link.isHidden()
    panel.set_web_ui(None)  # no backend connected
    assert link.isHidden()
