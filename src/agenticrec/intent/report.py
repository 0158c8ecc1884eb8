"""The intent report: compression, interests and tags, HR@K against the baselines, judge agreement, and example
users (compressed history, interests with evidence and, once built, explained items; predicted tags, hit or miss)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agenticrec.data import Dataset
from agenticrec.intent import artifacts
from agenticrec.intent.config import IntentConfig
from agenticrec.intent.items import template_names
from agenticrec.intent.mining import interest_key
from agenticrec.io import atomic_write_text
from agenticrec.render import render_html

METHODS = ("llm", "hybrid", "transition", "recent", "popular")


def hit_rows(summary: dict[str, Any], ks: list[int]) -> list[dict[str, Any]]:
    return [{"method": m, **{f"HR@{k}": summary[f"hr{k}_{m}"] for k in ks}} for m in METHODS]


def explained_items(dataset: Dataset, run_dir: Path, names: dict[int, str]) -> dict[str, list[dict[str, str]]]:
    """Interest key -> its explained items (short name, explanation, the absent attributes that withhold it from
    serving); empty before `explain build`."""
    path = artifacts.intent_dir(run_dir) / artifacts.EXPLANATIONS
    if not path.is_file():
        return {}
    out: dict[str, list[dict[str, str]]] = {}
    for row in artifacts.read_table(run_dir, artifacts.EXPLANATIONS).itertuples():
        item = names[dataset.item_index(row.item)]
        pick = {"item": item, "explanation": row.explanation, "withheld": ", ".join(row.absent_attributes)}
        out.setdefault(row.interest_key, []).append(pick)
    return out


def write_report(dataset: Dataset, config: IntentConfig, run_dir: Path) -> Path:
    evaluation = artifacts.read_json(run_dir, artifacts.EVALUATION)
    interests = artifacts.read_table(run_dir, artifacts.INTERESTS)
    names = template_names(dataset, config)
    explained = explained_items(dataset, run_dir, names)
    users = []
    for example in evaluation["examples"][:10]:
        mine = interests[interests["user"] == example["user"]].sort_values("rank")
        users.append(
            example
            | {
                "interests": [
                    {
                        "name": row.name,
                        "rationale": row.rationale,
                        "evidence": [names[dataset.index_of[e]] for e in row.evidence],
                        "explained": explained.get(interest_key(row.name), []),
                    }
                    for row in mine.itertuples()
                ]
            }
        )
    judge_file = Path(run_dir) / "judge" / "agreement.json"
    html = render_html(
        "intent_report.html.j2",
        dataset=dataset.name,
        compression=artifacts.read_json(run_dir, artifacts.COMPRESSION),
        mining=artifacts.read_json(run_dir, artifacts.MINING),
        tagging=artifacts.read_json(run_dir, artifacts.TAGGING),
        evaluation=evaluation,
        hit_rows=hit_rows(evaluation["summary"], config.hit_ks),
        users=users,
        judge=json.loads(judge_file.read_text()) if judge_file.is_file() else None,
    )
    path = artifacts.intent_dir(run_dir) / artifacts.REPORT
    atomic_write_text(path, html)
    return path
