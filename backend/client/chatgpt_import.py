"""Read a ChatGPT data export (``conversations.json``) into DuraChat's export types.

A ChatGPT conversation is a tree: every regenerated reply or edited message starts a
branch. The one imported is the branch the user last saw, from ``current_node`` up to
the root. On it each user message starts a turn; what the assistant said after it
(text, code it ran and the output, pictures as ``[image]``) is the turn's reply, and
its thoughts the turn's reasoning. System messages, hidden ones (custom
instructions, memory) and other tools' traffic (web search, image generation calls)
are left out: the assistant's text says what came of them.

The whole file is checked at the boundary (not JSON, not a list of conversations:
``ValueError``); a single malformed conversation inside it is skipped and counted,
never costing the rest. Nothing recurses: a branch can be thousands of messages long.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.workflows.conversation_types import MAX_TITLE_CHARS, title_from

log = logging.getLogger(__name__)

ID_PREFIX = "chatgpt-"
PROVIDER = "openai"
_MAX_CONVERSATION_ID = 200
_MAX_TURN_ID = 128  # conversation_types.MessageId
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:-]")
# conversations.json, or its shards (conversations-000.json, ...), in the export's zip.
_CONVERSATIONS_FILE = re.compile(r"(?:^|/)conversations(?:-\d+)?\.json$")
# The user's settings and memory, sent along as messages the UI never shows.
_CONTEXT_CONTENT = {"user_editable_context", "model_editable_context"}
_NOT_CHATGPT = "this is not a ChatGPT conversations.json"


@dataclass
class ChatGPTImport:
    """What ``parse_chatgpt_export`` read: the conversations, and how many it left out
    (``skipped``: malformed; ``empty``: not one message from the user)."""

    conversations: list[ExportedConversation] = field(default_factory=list)
    skipped: int = 0
    empty: int = 0


def parse_chatgpt_export(data: bytes | str) -> ChatGPTImport:
    """The conversations of a ChatGPT ``conversations.json`` (or of the export's zip),
    in the file's order. Raises ValueError (one line, for the user) when ``data`` is not
    such a file at all."""
    raw = _load(data)
    if isinstance(raw, dict) and isinstance(raw.get("mapping"), dict):
        raw = [raw]  # one conversation on its own
    if not isinstance(raw, list):
        what = "a JSON object" if isinstance(raw, dict) else f"a JSON {type(raw).__name__}"
        if isinstance(raw, dict) and raw.get("format") == "durachat-export":
            raise ValueError(f"{_NOT_CHATGPT}: it is a DuraChat export")
        raise ValueError(f"{_NOT_CHATGPT}: it holds {what}, not a list of conversations")
    if raw and not any(isinstance(c, dict) and isinstance(c.get("mapping"), dict) for c in raw):
        raise ValueError(
            f"{_NOT_CHATGPT}: none of its {len(raw):,} entries has a message 'mapping'"
        )
    result = ChatGPTImport()
    ids: set[str] = set()
    for index, entry in enumerate(raw):
        try:
            conv = _conversation(entry)
        except (ValueError, TypeError, KeyError, AttributeError, ValidationError) as exc:
            result.skipped += 1
            log.warning("ChatGPT import: conversation %d skipped: %s", index, _one_line(exc))
            continue
        if conv is None:
            result.empty += 1
            continue
        conv.conversation_id = _unique(conv.conversation_id, ids, _MAX_CONVERSATION_ID)
        result.conversations.append(conv)
    if result.skipped:
        log.warning("ChatGPT import: %d malformed conversation(s) skipped", result.skipped)
    return result


def _load(data: bytes | str) -> Any:
    if isinstance(data, bytes) and data[:4] == b"PK\x03\x04":
        return _load_zip(data)
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{_NOT_CHATGPT}: it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"{_NOT_CHATGPT}: it is not text (UTF-8 JSON)") from None


def _load_zip(data: bytes) -> list[Any]:
    """The export as ChatGPT mails it: a zip with conversations.json (or shards of it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = sorted(n for n in archive.namelist() if _CONVERSATIONS_FILE.search(n))
            if not names:
                raise ValueError(f"{_NOT_CHATGPT}: the zip holds no conversations.json")
            conversations: list[Any] = []
            for name in names:
                part = _load(archive.read(name))
                if not isinstance(part, list):
                    raise ValueError(f"{_NOT_CHATGPT}: {name} is not a list of conversations")
                conversations += part
            return conversations
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise ValueError(f"{_NOT_CHATGPT}: the zip cannot be read ({exc})") from None


def _conversation(entry: Any) -> ExportedConversation | None:
    """One conversation, or None when it holds no message from the user."""
    if not isinstance(entry, dict):
        raise TypeError(f"a JSON {type(entry).__name__}, not an object")
    mapping = entry.get("mapping")
    if not isinstance(mapping, dict):
        raise ValueError("no message 'mapping'")
    created = _time(entry.get("create_time"))
    messages = _branch(mapping, entry.get("current_node"))
    turns = _turns(messages, created)
    if not turns:
        return None
    times = [t for m in messages if (t := _time(m.get("create_time")))]
    created = created or (min(times) if times else None) or _time(entry.get("update_time"))
    if created is None:
        created = 0.0
    updated = _time(entry.get("update_time")) or (max(times) if times else created)
    for turn in turns:  # messages without a time of their own, before any that had one
        turn.queued_at = turn.queued_at or created
        turn.started_at = turn.started_at or created
        turn.ended_at = turn.ended_at or turn.started_at
    title = entry.get("title")
    title = " ".join(title.split()) if isinstance(title, str) else ""
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    model = next((t.model for t in reversed(turns) if t.model), None)
    default_model = entry.get("default_model_slug")
    return ExportedConversation(
        conversation_id=ID_PREFIX + _conversation_key(entry),
        title=title or title_from(turns[0].user_text),
        created_at=created,
        updated_at=max(updated, created),
        model=model or (default_model if isinstance(default_model, str) else None),
        provider=PROVIDER,
        turns=turns,
    )


def _conversation_key(entry: dict[str, Any]) -> str:
    for key in ("conversation_id", "id"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return _safe_id(value, _MAX_CONVERSATION_ID - len(ID_PREFIX))
    # No id: one made from what the conversation is, the same on every import.
    seed = json.dumps(
        [entry.get("title"), entry.get("create_time"), entry.get("current_node")], default=str
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _branch(mapping: dict[str, Any], current: Any) -> list[dict[str, Any]]:
    """The messages from the root to ``current`` (when it is missing: to the leaf reached
    by always taking the newest child), oldest first."""
    if not (isinstance(current, str) and isinstance(mapping.get(current), dict)):
        current = _newest_leaf(mapping)
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id = current
    while isinstance(node_id, str) and node_id not in seen:
        node = mapping.get(node_id)
        if not isinstance(node, dict):
            break
        seen.add(node_id)
        message = node.get("message")
        if isinstance(message, dict):
            path.append({**message, "id": message.get("id") or node_id})
        node_id = node.get("parent")
    path.reverse()
    return path


def _newest_leaf(mapping: dict[str, Any]) -> str | None:
    root = next(
        (
            key
            for key, node in mapping.items()
            if isinstance(node, dict) and node.get("parent") not in mapping
        ),
        None,
    )
    seen: set[str] = set()
    node_id = root
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        children = mapping[node_id].get("children")
        children = children if isinstance(children, list) else []
        known = [c for c in children if isinstance(c, str) and isinstance(mapping.get(c), dict)]
        if not known:
            break
        node_id = known[-1]
    return node_id


def _turns(
    messages: list[dict[str, Any]], conversation_created: float | None
) -> list[ExportedTurn]:
    turns: list[ExportedTurn] = []
    turn_ids: set[str] = set()
    replies: list[list[str]] = []
    thoughts: list[list[str]] = []
    last_time = conversation_created
    for message in messages:
        metadata = message.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        content = message.get("content")
        content = content if isinstance(content, dict) else {}
        kind = content.get("content_type")
        if (
            metadata.get("is_visually_hidden_from_conversation")
            or metadata.get("is_user_system_message")
            or kind in _CONTEXT_CONTENT
        ):
            continue
        when = _time(message.get("create_time"))
        if role == "user":
            text = _join(_text_pieces(content))
            text = _join([text, *_attachments(metadata)])
            turn_id = _unique(
                ID_PREFIX + _safe_id(str(message["id"]), _MAX_TURN_ID - len(ID_PREFIX)),
                turn_ids,
                _MAX_TURN_ID,
            )
            turns.append(
                ExportedTurn(
                    turn_id=turn_id,
                    user_text=text or "[empty message]",
                    status="done",
                    queued_at=when or last_time or 0.0,
                    started_at=when or last_time,
                    provider=PROVIDER,
                )
            )
            replies.append([])
            thoughts.append([])
        elif turns and role in ("assistant", "tool"):
            turn = turns[-1]
            if role == "assistant":
                recipient = message.get("recipient")
                recipient = recipient if isinstance(recipient, str) and recipient else "all"
                pieces, reasoning = _assistant_pieces(content, recipient)
                thoughts[-1] += reasoning
                if isinstance(slug := metadata.get("model_slug"), str) and slug:
                    turn.model = slug
            else:
                pieces = _tool_pieces(content)
            replies[-1] += pieces
            if when and (pieces or role == "assistant"):
                turn.ended_at = max(turn.ended_at or when, when)
        last_time = when or last_time
    for turn, reply, reasoning in zip(turns, replies, thoughts, strict=True):
        turn.reply = _join(reply)
        turn.reasoning = _join(reasoning)
        # The model's context, as the conversation workflow keeps it, so a reply
        # in DuraChat knows what was said before.
        turn.items = [{"role": "user", "content": turn.user_text}]
        if turn.reply:
            turn.items.append({"role": "assistant", "content": turn.reply})
    return turns


def _assistant_pieces(content: dict[str, Any], recipient: str) -> tuple[list[str], list[str]]:
    """What the user saw of an assistant message: (reply pieces, reasoning pieces)."""
    kind = content.get("content_type")
    if kind == "thoughts":
        return [], _thoughts(content.get("thoughts"))
    if kind == "reasoning_recap":
        return [], []  # "Thought for 12 seconds": the thoughts say more
    if kind == "code":
        # Code the assistant ran (python); other tools' calls (web search, image
        # generation, canvas) come as code too, but the UI shows them as activity.
        python = recipient.startswith("python")
        if not (python or recipient == "all") or not _str(content.get("text")).strip():
            return [], []
        language = content.get("language")
        if not isinstance(language, str) or language == "unknown":
            language = "python" if python else ""
        return [_fence(_str(content.get("text")), language)], []
    if recipient != "all":
        return [], []  # a call to a tool (its arguments), not text for the user
    return _text_pieces(content), []


def _tool_pieces(content: dict[str, Any]) -> list[str]:
    """A tool's answer: the output of code that ran; a picture it made."""
    kind = content.get("content_type")
    if kind == "execution_output":
        text = _str(content.get("text"))
        return [_fence(text, "")] if text.strip() else []
    if kind == "multimodal_text":
        parts = content.get("parts")
        return [_part_placeholder(p) for p in parts or [] if isinstance(p, dict)]
    return []


def _text_pieces(content: dict[str, Any]) -> list[str]:
    parts = content.get("parts")
    if isinstance(parts, list):
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                pieces.append(_part_placeholder(part))
        return [p for p in pieces if p.strip()]
    text = content.get("text")
    return [text] if isinstance(text, str) and text.strip() else []


def _part_placeholder(part: dict[str, Any]) -> str:
    kind = part.get("content_type")
    if kind == "audio_transcription" and isinstance(part.get("text"), str):
        return part["text"]
    if kind == "image_asset_pointer":
        return "[image]"
    if isinstance(kind, str) and kind.startswith("audio"):
        return "[audio]"
    if isinstance(kind, str) and kind.startswith("video"):
        return "[video]"
    return "[attachment]"


def _attachments(metadata: dict[str, Any]) -> list[str]:
    """Files the user attached, by name (the export holds them beside, not inside)."""
    attachments = metadata.get("attachments")
    if not isinstance(attachments, list):
        return []
    return [
        f"[attachment: {' '.join(a['name'].split())}]"
        for a in attachments
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    ]


def _thoughts(thoughts: Any) -> list[str]:
    pieces = []
    for thought in thoughts if isinstance(thoughts, list) else []:
        if not isinstance(thought, dict):
            continue
        summary, body = _str(thought.get("summary")).strip(), _str(thought.get("content")).strip()
        pieces.append(_join([f"**{summary}**" if summary and body else summary, body]))
    return [p for p in pieces if p]


def _fence(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.strip(chr(10))}\n{ticks}"


def _join(pieces: list[str]) -> str:
    return "\n\n".join(p.strip("\n") for p in pieces if p and p.strip())


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _time(value: Any) -> float | None:
    """Unix seconds, or None for null, nonsense, or before 1971."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and 3e7 < value < 1e11 else None


def _safe_id(value: str, limit: int) -> str:
    return _UNSAFE_ID_CHARS.sub("_", value.strip())[:limit] or "_"


def _unique(value: str, taken: set[str], limit: int) -> str:
    """``value``, or with a suffix when it is taken already."""
    candidate, n = value, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = value[: limit - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
