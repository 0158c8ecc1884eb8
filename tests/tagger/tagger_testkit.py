"""A toy catalogue and a scripted LLM that plays architect and annotator (imported by name: pytest puts
this folder on sys.path, and the resume test's subprocess adds it to PYTHONPATH)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import yaml

from agenticrec.pipeline import RunConfig

KINDS = {
    "fruit": ["apple", "pear", "plum", "mango", "kiwi", "lime", "fig", "date"],
    "vegetable": ["leek", "kale", "pea", "bean", "okra", "yam", "corn", "beet"],
    "dairy": ["milk", "brie", "feta", "cream", "butter", "yogurt", "gouda", "kefir"],
}


def write_catalogue(folder: Path, copies: int = 2) -> dict[str, Any]:
    """Items `<kind>-<word>-<copy>` with text `title: ...; kind: ...`; data options for the `files` loader."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [
        {"item_id": f"{kind}-{word}-{c}", "title": f"{word} {c}", "kind": kind}
        for c in range(copies)
        for kind, words in KINDS.items()
        for word in words
    ]
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    rows = ["user_id,item_id,timestamp"]
    for u in range(len(items) // 3):
        rows += [f"u{u},{items[(3 * u + k) % len(items)]['item_id']},{k}" for k in range(3)]
    (folder / "events.csv").write_text("\n".join(rows) + "\n")
    return {
        "name": "files",
        "options": {
            "items": str(folder / "items.jsonl"),
            "interactions": str(folder / "events.csv"),
            "text_fields": ["title", "kind"],
        },
    }


def categories(system: str) -> list[tuple[str, str]]:
    """(name, rest of the card) for every '- name: card' line of a prompt."""
    return [tuple(m.groups()) for m in re.finditer(r"^- ([^:\n]+): (.*)$", system, re.M)]  # type: ignore[misc]


def quoted_lines(user: str) -> list[str]:
    body = re.search(r"<<<DATA [^\n]*>>>\n(.*)\n<<<END DATA", user, re.S)
    assert body, user
    return body.group(1).splitlines()


def kind_of(text: str) -> str:
    return re.search(r"kind: (\w+)", text).group(1)  # type: ignore[union-attr]


class TaggerScript:
    """Plays every agent; each behaviour is a knob so a test can drive one branch of Algorithm 2.

    initial: the architect's first children (name -> description; a name matches items of that kind)
    change: what the proposing annotator answers (a dict, or raw text for malformed output)
    approve: the architect's review decision
    second_level: children the architect proposes below a level-1 descriptor
    off_list: the annotator answers this name (not in the list) instead of a valid choice
    group_name: the grouped architect answers this name for every group (default: the group's first keyphrase)
    """

    def __init__(
        self,
        initial: dict[str, str] | None = None,
        change: dict[str, Any] | str | None = None,
        approve: bool = True,
        second_level: dict[str, str] | None = None,
        off_list: str | None = None,
        multi: bool = False,
        group_name: str | None = None,
    ):
        self.initial = initial or {"fruit": "fresh fruit", "vegetable": "fresh vegetables"}
        self.change = change or {"action": "CREATE_NEW_CATEGORY", "name": "dairy", "description": "milk products"}
        self.approve = approve
        self.second_level = second_level or {"small": "short words", "large": "long words"}
        self.off_list = off_list
        self.multi = multi
        self.group_name = group_name
        self.calls: list[str] = []

    def __call__(self, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        system, user = messages[0]["content"], messages[1]["content"]
        if "Propose about" in system:
            self.calls.append("propose")
            top = "whole catalogue" in system
            children = self.initial if top else self.second_level
            return json.dumps({"descriptors": [{"name": n, "description": d} for n, d in children.items()]})
        if "groups of items" in system:
            self.calls.append("name_groups")
            groups = [line for line in quoted_lines(user) if line.startswith("Group ")]
            return json.dumps({"descriptors": [self._group_answer(line) for line in groups]})
        if "describes one group of items" in system:
            self.calls.append("rename")
            return json.dumps(self._group_answer(quoted_lines(user)[0]))
        if "Propose one change" in system:
            self.calls.append("change")
            return self.change if isinstance(self.change, str) else json.dumps(self.change)
        if "An annotator proposes this change" in system:
            self.calls.append("review")
            return json.dumps({"approve": self.approve, "reasoning": "ok" if self.approve else "too vague"})
        if "You sort catalogue items" in system:
            self.calls.append("annotate")
            names = categories(system)
            picks = [self._pick(names, line, "NONE" in system) for line in quoted_lines(user)]
            if "labels" in (schema or {}).get("properties", {}):
                return json.dumps({"labels": picks})
            if "descriptors" in (schema or {}).get("properties", {}):
                return json.dumps({"descriptors": [picks[0], names[-1][0]] if self.multi else [picks[0]]})
            return json.dumps({"descriptor": picks[0]})
        if "You check a taxonomy" in system:
            self.calls.append("judge")
            name = re.search(r"Category: ([^:\n]+):", system).group(1)  # type: ignore[union-attr]
            return json.dumps({"choice": "yes" if name == kind_of(quoted_lines(user)[0]) else "no"})
        if "three short keywords" in system:
            self.calls.append("keywords")
            text = quoted_lines(user)[0]
            word = re.search(r"title: (\w+)", text).group(1)  # type: ignore[union-attr]
            return json.dumps({"keywords": [kind_of(text), word, "food"]})
        raise AssertionError(f"unexpected prompt: {system[:200]}")

    def _group_answer(self, line: str) -> dict[str, str]:
        phrases = line.split("keyphrases: ", 1)[1].split(", ")
        name = self.group_name or phrases[0]
        return {"name": name, "description": f"all {name}"}

    def _pick(self, names: list[tuple[str, str]], text: str, allow_none: bool) -> str:
        if self.off_list:
            return self.off_list
        kind, word = kind_of(text), re.search(r"title: (\w+)", text).group(1)  # type: ignore[union-attr]
        for name, card in names:
            if (
                name == kind
                or f" {kind} " in f" {card} "
                or (name == "small" and len(word) <= 4)
                or (name == "large" and len(word) > 4)
            ):
                return name
        return "NONE" if allow_none else names[0][0]


def run_config(tmp_path: Path, script: Any, **tagger: Any) -> RunConfig:
    """A run on the toy catalogue with `script` as every LLM role; `tagger` overrides build settings."""
    return RunConfig.model_validate(
        {
            "run_dir": str(tmp_path / "run"),
            "data": write_catalogue(tmp_path / "data"),
            "llm": {
                "backends": {"script": {"kind": "scripted", "script": script}},
                "default": {"backend": "script"},
                "retry": {"max_attempts": 2, "base_delay_s": 0.0, "max_delay_s": 0.0},
                "progress": False,
            },
            "tagger": {
                "build": {
                    "architect": "joint",
                    "split_threshold": 10,
                    "max_depth": 1,
                    "initial_children": 2,
                    "anomaly_threshold": 2,
                    "distill_samples": 6,
                    "error_clusters": 1,
                    **tagger.pop("build", {}),
                },
                **tagger,
            },
        }
    )


def write_yaml_config(tmp_path: Path, script_path: str, **tagger: Any) -> Path:
    """The same run as a YAML file naming the script by import path (for the CLI and subprocesses)."""
    config = run_config(tmp_path, TaggerScript(), **tagger).model_dump(mode="json", exclude={"llm"})
    config["llm"] = {
        "backends": {"script": {"kind": "scripted", "script": script_path}},
        "default": {"backend": "script"},
        "progress": False,
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


_KILLABLE = TaggerScript()


def call_hash(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def killable_script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """`TaggerScript()` that appends each request's hash to $TAGGER_CALLS and SIGKILLs its own process
    when the call count reaches $TAGGER_KILL_AT (the call in flight is then never completed)."""
    calls = Path(os.environ["TAGGER_CALLS"])
    with calls.open("a") as handle:
        handle.write(call_hash(messages) + "\n")
    if len(calls.read_text().splitlines()) == int(os.environ.get("TAGGER_KILL_AT", "0")):
        os.kill(os.getpid(), signal.SIGKILL)
    return _KILLABLE(messages, schema)


_THREE_KINDS = TaggerScript(initial={"fruit": "fresh fruit", "vegetable": "fresh vegetables", "dairy": "milk products"})


def shopper_script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """The tagger agents with three kinds, plus a critiquing shopper who picks the wanted item's kind."""
    system, user = messages[0]["content"], messages[1]["content"]
    if "You are a shopper" not in system:
        return _THREE_KINDS(messages, schema)
    offered = [name for name, _ in categories(system)]
    assert sorted(offered) == ["dairy", "fruit", "vegetable"], offered
    return json.dumps({"categories": [kind_of(quoted_lines(user)[0])]})
