"""One tool list: built-in and MCP tools, names kept distinct, policies and retries."""

from __future__ import annotations

from backend.tools.offer import BUILTIN, McpTool, offer


def by_name(tools):  # type: ignore[no-untyped-def]
    return {t.name: t for t in tools}


def test_defaults_allow_what_only_reads_and_ask_for_the_rest() -> None:
    tools = by_name(
        offer(
            {
                "srv": [
                    McpTool(name="look", read_only=True),
                    McpTool(name="write"),
                    McpTool(name="put", idempotent=True),
                ]
            },
            {},
        )
    )
    assert {n: tools[n].policy for n in ("calculator", "current_time")} == {
        "calculator": "allow",
        "current_time": "allow",
    }
    assert tools["read_file"].policy == tools["list_files"].policy == "ask"
    assert (tools["look"].policy, tools["look"].retry) == ("allow", True)
    assert (tools["write"].policy, tools["write"].retry) == ("ask", False)
    assert (tools["put"].policy, tools["put"].retry) == ("ask", True)
    assert tools["look"].source == "srv" and tools["calculator"].source == BUILTIN


def test_the_users_policy_wins_over_the_default() -> None:
    tools = by_name(
        offer(
            {"srv": [McpTool(name="look", read_only=True)]}, {"look": "deny", "read_file": "allow"}
        )
    )
    assert tools["look"].policy == "deny" and tools["read_file"].policy == "allow"


def test_clashing_or_unusable_names_get_their_servers_prefix() -> None:
    tools = by_name(
        offer(
            {
                "a": [McpTool(name="search"), McpTool(name="calculator"), McpTool(name="get.page")],
                "b": [McpTool(name="search"), McpTool(name="unique")],
            },
            {},
        )
    )
    assert {"a__search", "b__search", "a__calculator", "a__get_page", "unique"} <= set(tools)
    assert tools["calculator"].source == BUILTIN  # a built-in keeps its name
    assert (tools["a__get_page"].remote_name, tools["a__search"].remote_name) == (
        "get.page",
        "search",
    )
    assert all(len(name) <= 64 for name in tools)
