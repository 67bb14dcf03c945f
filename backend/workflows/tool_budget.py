"""How much tool output one turn may send to the model, and keep in its record.

Every model call re-sends the whole turn so far as one Temporal payload (2 MB at
most), and the turn's record is carried in the workflow's state. Tool output
beyond these budgets is cut, with a note the model and the user can read, so a
turn that reads many large files still ends cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

# What the model receives of all tool outputs in one turn.
MODEL_BUDGET_BYTES = 300_000
# What the turn's record (the tool panel, the history) keeps of them.
RECORD_BUDGET_BYTES = 600_000
# What the record shows of an output the conversation store holds whole (as a blob).
PREVIEW_BYTES = 16 * 1024


def preview(output: str, whole_bytes: int) -> str:
    """The start of an output kept whole elsewhere, saying so."""
    kept, left_out = _cut(output, PREVIEW_BYTES)
    if not left_out and len(output.encode("utf-8", "surrogatepass")) >= whole_bytes:
        return kept
    return f"{kept}\n[the whole output, {whole_bytes:,} bytes, is kept in the conversation store]"


def _cut(text: str, room: int) -> tuple[str, int]:
    """The longest prefix of ``text`` within ``room`` UTF-8 bytes, and the bytes left out."""
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) <= room:
        return text, 0
    kept = data[: max(room, 0)].decode("utf-8", errors="ignore")
    return kept, len(data) - len(kept.encode("utf-8", errors="surrogatepass"))


@dataclass
class ToolOutputBudget:
    model_left: int = MODEL_BUDGET_BYTES
    record_left: int = RECORD_BUDGET_BYTES

    def for_model(self, output: str) -> str:
        kept, left_out = self._take(output, "model_left")
        if not left_out:
            return kept
        return (
            f"{kept}\n[DuraChat cut this tool output here: {left_out} more bytes were not "
            f"sent, because one reply may take in at most {MODEL_BUDGET_BYTES // 1000} KB of "
            "tool output. The user can see the output in DuraChat's tool panel; ask for "
            "less (a part of a file, a smaller folder) if you need the rest.]"
        )

    def for_record(self, output: str) -> str:
        kept, left_out = self._take(output, "record_left")
        if not left_out:
            return kept
        return (
            f"{kept}\n[{left_out} more bytes not kept: this reply's tool outputs passed "
            f"{RECORD_BUDGET_BYTES // 1000} KB]"
        )

    def _take(self, output: str, budget: str) -> tuple[str, int]:
        """What fits of ``output`` in the named budget (which it then uses up), and how
        many bytes were left out."""
        kept, left_out = _cut(output, getattr(self, budget))
        setattr(self, budget, getattr(self, budget) - len(kept.encode("utf-8", "surrogatepass")))
        return kept, left_out
