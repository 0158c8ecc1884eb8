"""Reading a short free-text answer: its first paragraph, without a label or quotes, within a word limit."""

from __future__ import annotations

import re

LABEL = re.compile(r"^[A-Za-z ]{2,30}:\s*")  # e.g. "Explanation: ", "Primary use case: "


def short_answer(raw: str, words: int) -> tuple[str, bool]:
    """The answer's first paragraph without a leading label or quotes, cut to ``words`` words (at a sentence end when
    one falls in the second half); and whether it was cut."""
    text = raw.strip().split("\n\n")[0].strip()
    text = LABEL.sub("", text, count=1).strip().strip('"“”').strip()
    tokens = text.split()
    if len(tokens) <= words:
        return " ".join(tokens), False
    kept = " ".join(tokens[:words])
    end = max(kept.rfind(". "), kept.rfind("! "), kept.rfind("? "), kept.rfind(".") if kept.endswith(".") else -1)
    return (kept[: end + 1] if end >= len(kept) // 2 else kept.rstrip(",;:") + "…"), True
