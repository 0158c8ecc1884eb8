"""Training data for a later fine-tune, as in RecGPT's incremental-learning step: judge-filtered tags, resampled
so that no category dominates a user's samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd

from agenticrec.intent import artifacts
from agenticrec.intent.hitrate import CategoryMapper
from agenticrec.io import atomic_write_text


def curate(
    histories: pd.DataFrame,
    interests: pd.DataFrame,
    tags: pd.DataFrame,
    passes: dict[tuple[str, str], bool],
    mapper: CategoryMapper,
    max_per_category: int,
    run_dir: Path,
) -> dict[str, int]:
    """Write ``curated.jsonl``: (history, tag, interest, rationale) for tags the judge passed on every tag criterion
    it saw (``passes[(user, tag)]``; unjudged tags are left out), at most ``max_per_category`` per category and user.
    The interest paired with a tag is the user's first-ranked one."""
    lines = dict(zip(histories["user"], histories["prompt_lines"]))
    top = interests.sort_values("rank").groupby("user").first() if len(interests) else pd.DataFrame()
    records: list[str] = []
    dropped = {"not_passed": 0, "category_cap": 0}
    for user, group in tags.groupby("user", sort=False):
        per_category: Counter[str] = Counter()
        ordered = group.sort_values("rank")
        categories = mapper.categories_of(list(ordered["tag"]))
        for tag, category in zip(ordered["tag"], categories):
            if not passes.get((user, tag), False) or user not in top.index:
                dropped["not_passed"] += 1
                continue
            if per_category[category] >= max_per_category:
                dropped["category_cap"] += 1
                continue
            per_category[category] += 1
            interest = top.loc[user]
            record = {
                "user": user,
                "history": "\n".join(lines[user]),
                "tag": tag,
                "category": category,
                "interest": interest["name"],
                "rationale": interest["rationale"],
            }
            records.append(json.dumps(record, ensure_ascii=False))
    atomic_write_text(artifacts.intent_dir(run_dir) / artifacts.CURATED, "\n".join(records) + ("\n" if records else ""))
    return {"samples": len(records), **{f"dropped_{k}": v for k, v in dropped.items()}}
