"""Issue 35: distil the capable model's checked answers into the embedded one, and measure it on held-out catalogues.

Four of the stages' own requests, in curriculum order:
- choice (`tagger.agents.annotate_request`, one item, calibrated option scores): pick an item's level-3 category
  among the children of its level-2 category, each shown as a descriptor;
- critique (`tagger.critique.simulated_user.pick_requests`, calibrated option scores): the simulated user, wanting
  an item, picks among the catalogue's level-1 categories;
- naming (`tagger.agents.name_group_request`): name one K-medoids group of a catalogue from its keyphrases and
  typical titles, beside the names its earlier siblings got; the name must pass the tagger's name checks;
- ranking (`augment.ranker.pick_requests`, calibrated title scores): LaMAR's ranker orders 20 random items and the
  user's true next item after their last five.

1. curate: the teacher (Qwen2.5-Coder-1.5B, benchmark only) chooses and picks for seeded samples of Beauty items,
   names the groups of MovieLens, Beauty and Office at several group counts, and ranks seeded test users' lists of
   Beauty and Office. A choice or pick is kept only when it agrees with the catalogue's label, a name only when it
   passes the checks, a ranking only when the true item is in the teacher's top 5 (the checks each task has).
   Examples go to RUNS/examples.jsonl, split by item (a group counts as an item; a ranking is its true item).
2. tune: `agenticrec llm finetune` (LoRA on SmolLM2-135M, merged into RUNS/tuned/model.gguf).
3. evaluate on catalogues no example came from (Sports, Scientific): choice and critique-pick accuracy of the base
   SmolLM2, the tuned one and the teacher, beside random and majority baselines, on the same seeded items; the
   share of their group names that pass the checks, on the same groups; and the ranker's NDCG@10 on the same lists.

An item is shown by its text fields without its category (title and brand; Sports has no titles: brand and
IDGenRec's generated keywords, which share a word with the category path for about 60% of items, SOURCE.md).

    .venv/bin/python benchmarks/finetune.py --teacher-items 1500 --eval-items 300 --threads 1

On two cores, first run `--prefill teacher` and `--prefill teacher-eval` beside each other (the teacher's curation
and its held-out evaluation, the two long parts, one core each); the full run then replays their calls.

Every LLM call is cached in RUNS/<model>/llm.sqlite, so a rerun pays nothing. Writes benchmarks/results/finetune.json
(summary: the issue's choice_acc_base, choice_acc_finetuned, choice_acc_qwen15, names_passing_base,
names_passing_finetuned, ranker_ndcg10_base, ranker_ndcg10_finetuned, train_minutes, examples_train, each a mean over
the held-out catalogues; per catalogue choice_acc_<model>_<dataset>, critique_acc_..., majority_picks_...,
names_pass_..., ranker_ndcg10_...) and the BENCHMARKS.md section "finetune".
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agenticrec.augment.config import RANKER, RankerConfig
from agenticrec.augment.ranker import CandidateSet, candidate_sets, metrics, ranks_from_scores
from agenticrec.augment.ranker import pick_requests as ranker_requests
from agenticrec.data import load_dataset
from agenticrec.embed import embed_texts
from agenticrec.embed.distill import kmedoids_groups
from agenticrec.finetune.config import FinetuneConfig
from agenticrec.finetune.examples import CURRICULUM, Example
from agenticrec.finetune.run import MODEL, run_finetune
from agenticrec.io import atomic_path
from agenticrec.llm import LLMClient, LLMConfig, Message
from agenticrec.llm.backends.embedded import default_model_path, expand_path
from agenticrec.llm.choice import ChoiceResult
from agenticrec.pipeline import load_config
from agenticrec.tagger.agents import (
    ANNOTATOR,
    ARCHITECT,
    TOKENS_PER_DESCRIPTOR,
    ProposedDescriptor,
    annotate_request,
    name_group_request,
)
from agenticrec.tagger.critique.simulated_user import ROLE as USER
from agenticrec.tagger.critique.simulated_user import Option, pick_requests
from agenticrec.tagger.grounding import GroupEvidence, keyphrases, name_problem, title_of
from agenticrec.tagger.vocabulary import Descriptor
from common import command, machine, save, update_section

NAME = "finetune"
PRESET = "smollm2-agenticrec"
SEED = 0
TEXT_CHARS = 300
QWEN = Path("~/.cache/agenticrec/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").expanduser()
GROUPINGS = [6, 8, 10, 12]
"""The default K-medoids group counts per catalogue; each group is one naming question."""
KEYPHRASES = TITLES = 8  # per group, as the tagger's grouped build shows them
RANK_KEPT = 5  # a ranking is kept when the teacher puts the true item in its top this many of 21
RANK_WORDS = 6  # each item field cut to this many words (`augment.ranker.words`): about 800 SmolLM2 tokens a list
MEANS = {
    "choice_acc_base": "smollm2", "choice_acc_finetuned": "tuned", "choice_acc_qwen15": "qwen15",
    "names_passing_base": "names_smollm2", "names_passing_finetuned": "names_tuned",
    "critique_acc_base": "critique_smollm2", "critique_acc_finetuned": "critique_tuned",
    "ranker_ndcg10_base": "ranker_smollm2", "ranker_ndcg10_finetuned": "ranker_tuned",
}  # fmt: skip
"""The issue's summary keys: the mean over the held-out catalogues of each evaluation figure."""
CRITIQUE_USERS = ("smollm2", "finetuned", "qwen15", "oracle")
SOFT_USERS = CRITIQUE_USERS[:3]  # the oracle has no scores to soften
RANDOM_NDCG10 = sum(1 / np.log2(r + 2) for r in range(10)) / 21  # a random order of 21 candidates, in expectation


@dataclass(frozen=True)
class Choice:
    """One item's question: its level-2 category, the level-3 siblings to choose among, and its own."""

    item: str
    text: str
    parent: str
    options: tuple[str, ...]
    label: str


def choices(dataset_name: str, n: int, seed: int) -> tuple[list[Choice], dict[str, Counter[str]]]:
    """A seeded sample of ``n`` items whose level-2 category has at least two level-3 children, and the level-3
    counts per level-2 category among the other eligible items (the majority baseline's prior)."""
    dataset = load_dataset(dataset_name)
    categories = dataset.categories()
    assert categories is not None
    shown = dataset.without_category_field()  # the label never in the prompt
    paths = [[level.strip() for level in str(c).split(">")] for c in categories]
    children: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if len(path) >= 3:
            children[path[1]].add(path[2])
    ids = dataset.item_ids()
    eligible = [i for i, path in enumerate(paths) if len(path) >= 3 and len(children[path[1]]) >= 2]
    chosen = sorted(random.Random(seed).sample(eligible, min(n, len(eligible))))
    prior: dict[str, Counter[str]] = defaultdict(Counter)
    for i in set(eligible) - set(chosen):
        prior[paths[i][1]][paths[i][2]] += 1
    sample = [
        Choice(f"{dataset_name}:{ids[i]}", shown.item_text(i + 1)[:TEXT_CHARS], paths[i][1],
               tuple(sorted(children[paths[i][1]])), paths[i][2])
        for i in chosen
    ]  # fmt: skip
    return sample, prior


def request(choice: Choice, text: str | None = None) -> list[dict[str, str]]:
    """The annotator's request for one item, the siblings shown as descriptors under their parent."""
    parent = Descriptor(id="p", name=choice.parent, description=f"Products in {choice.parent}", level=1)
    children = [Descriptor(id=f"c{k}", name=o, description=f"{choice.parent} > {o}", level=2, parent="p")
                for k, o in enumerate(choice.options)]  # fmt: skip
    return annotate_request(parent, children, [choice.text if text is None else text], allow_none=False,
                            limit=TEXT_CHARS)  # fmt: skip


def llm(model_path: Path, threads: int) -> LLMConfig:
    return LLMConfig.model_validate({
        "backends": {"model": {"kind": "embedded", "model_path": str(model_path), "n_threads": threads, "n_ctx": 2048}},
        "default": {"backend": "model", "choice": "calibrated"}, "progress": False,
    })  # fmt: skip


def calibrated(
    model_path: Path,
    ledger: Path,
    threads: int,
    role: str,
    requests: list[list[Message]],
    options: list[list[str]],
    content_free: list[list[Message]],
) -> list[ChoiceResult]:
    """The model's calibrated option scores for each request (`LLMClient.choose`), through the ledger."""
    with LLMClient(llm(model_path, threads), ledger) as client:
        return client.choose(role, requests, options, content_free=content_free)


def picks(model_path: Path, items: list[Choice], ledger: Path, threads: int) -> list[str | None]:
    """The model's calibrated choice for each item (None where the call failed)."""
    chosen = calibrated(model_path, ledger, threads, ANNOTATOR, [request(c) for c in items],
                        [list(c.options) for c in items], [request(c, "N/A") for c in items])  # fmt: skip
    return [None if p.index is None else c.options[p.index] for c, p in zip(items, chosen)]


def accuracy(questions: Sequence[Choice | Critique], chosen: list[str | None]) -> float:
    """The share of questions whose answer is the label."""
    return sum(p == q.label for q, p in zip(questions, chosen)) / len(questions)


def majority_children(prior: dict[str, Counter[str]]) -> dict[str, str]:
    """Each level-2 category's most common child among the catalogue's other items (the majority baseline)."""
    return {p: counts.most_common(1)[0][0] for p, counts in prior.items() if counts}


def baselines(items: list[Choice], prior: dict[str, Counter[str]]) -> dict[str, float]:
    """Random among the siblings, and each level-2 category's most common child among the catalogue's other items."""
    common = majority_children(prior)
    return {
        "random": sum(1 / len(c.options) for c in items) / len(items),
        "majority": sum(common.get(c.parent) == c.label for c in items) / len(items),
    }


def majority_share(items: list[Choice], prior: dict[str, Counter[str]], chosen: list[str | None]) -> float:
    """The share of picks that are the parent's most common child: how far a model answers from the catalogue's
    prior rather than from the item."""
    common = majority_children(prior)
    return sum(p is not None and common.get(c.parent) == p for c, p in zip(items, chosen)) / len(items)


def curate(items: list[Choice], teacher: list[str | None]) -> list[Example]:
    """The teacher's choices that agree with the catalogue's label, as training examples."""
    return [
        Example.model_validate(
            {"task": "choice", "item": c.item, "messages": request(c), "options": c.options, "answer": p}
        )
        for c, p in zip(items, teacher)
        if p == c.label
    ]


@dataclass(frozen=True)
class Critique:
    """One item's critique question: the simulated user, wanting the item, picks among the catalogue's level-1
    categories; the item's own is the label."""

    item: str
    text: str
    options: tuple[str, ...]
    label: str


def critiques(dataset_name: str, n: int, seed: int) -> list[Critique]:
    """A seeded sample of ``n`` items with a level-1 category (the second level of the catalogue's path), each
    with the catalogue's level-1 categories as options."""
    dataset = load_dataset(dataset_name)
    categories = dataset.categories()
    assert categories is not None
    level1 = [parts[1].strip() if len(parts := str(c).split(">")) >= 2 else None for c in categories]
    options = tuple(sorted({name for name in level1 if name}))
    shown = dataset.without_category_field()  # the label never in the prompt
    ids = dataset.item_ids()
    eligible = [i for i, name in enumerate(level1) if name]
    chosen = sorted(random.Random(seed).sample(eligible, min(n, len(eligible))))
    return [Critique(f"{dataset_name}:{ids[i]}", shown.item_text(i + 1)[:TEXT_CHARS], options, str(level1[i]))
            for i in chosen]  # fmt: skip


def critique_request(question: Critique, text: str | None = None) -> list[dict[str, str]]:
    """The simulated user's request (`tagger.critique.simulated_user`), categories shown by their names."""
    options = [Option(name, name, name) for name in question.options]
    [messages] = pick_requests(options, [question.text if text is None else text], TEXT_CHARS)
    return [dict(m) for m in messages]


def critique_picks(model_path: Path, questions: list[Critique], ledger: Path, threads: int) -> list[str | None]:
    """The model's best-scored category (calibrated) for each question, None where the call failed. The stage
    adds a second pick within a margin, or abstains; the first pick is what the example teaches."""
    chosen = calibrated(
        model_path,
        ledger,
        threads,
        USER,
        [critique_request(q) for q in questions],
        [list(q.options) for q in questions],
        [critique_request(q, "N/A") for q in questions],
    )
    return [None if p.index is None else q.options[p.index] for q, p in zip(questions, chosen)]


def critique_baselines(questions: list[Critique]) -> dict[str, float]:
    """Random among the categories, and the most common category of the sample (an upper bound of any constant)."""
    common = Counter(q.label for q in questions).most_common(1)[0][1]
    return {"critique_random": sum(1 / len(q.options) for q in questions) / len(questions),
            "critique_majority": common / len(questions)}  # fmt: skip


def curate_critiques(questions: list[Critique], teacher: list[str | None]) -> list[Example]:
    """The teacher's picks that are the wanted item's own category, as training examples."""
    return [
        Example.model_validate(
            {"task": "critique", "item": q.item, "messages": critique_request(q), "options": q.options, "answer": p}
        )
        for q, p in zip(questions, teacher)
        if p == q.label
    ]


@dataclass(frozen=True)
class Naming:
    """One group of a clustering of a catalogue, to be named beside the clustering's earlier groups."""

    item: str  # DATASET:K:GROUP, the unit of the split
    evidence: GroupEvidence


def naming_questions(dataset_name: str, groupings: list[int], cache: Path, seed: int) -> list[list[Naming]]:
    """Per group count of ``groupings``, the catalogue's K-medoids groups (of MiniLM item-text embeddings) with
    their evidence, largest first."""
    dataset = load_dataset(dataset_name)
    texts = dataset.item_texts()
    vectors = embed_texts(texts, cache_dir=cache, progress=False)
    clusterings = []
    for k in groupings:
        groups = sorted((g for g in kmedoids_groups(vectors, k, seed=seed) if len(g)), key=len, reverse=True)
        member_texts = [[texts[i] for i in g] for g in groups]
        clusterings.append([
            Naming(f"{dataset_name}:{k}:{n}", GroupEvidence(phrases, [title_of(t) for t in members[:TITLES]], members))
            for n, (members, phrases) in enumerate(zip(member_texts, keyphrases(member_texts, top=KEYPHRASES)))
        ])  # fmt: skip
    return clusterings


@dataclass(frozen=True)
class Named:
    question: Naming
    messages: list[dict[str, str]]
    answer: ProposedDescriptor | None  # None where the call failed
    problem: str | None  # why the name fails the checks; None when it passes


def name_groups(model_path: Path, clusterings: list[list[Naming]], ledger: Path, threads: int) -> list[Named]:
    """The model names each clustering's groups in order, each beside the names that passed before it (as the
    tagger's build does), and each name is checked."""
    out = []
    with LLMClient(llm(model_path, threads), ledger) as client:
        for clustering in clusterings:
            taken: list[str] = []
            for question in clustering:
                messages = name_group_request(None, question.evidence, taken)
                [result] = client.batch(ARCHITECT, [messages], ProposedDescriptor,
                                        params={"max_tokens": TOKENS_PER_DESCRIPTOR}, progress=False)  # fmt: skip
                answer = result.value if isinstance(result.value, ProposedDescriptor) else None
                found = answer and name_problem(answer.name, answer.description, question.evidence, taken)
                problem = (found and found.kind) if answer else "failed"
                if answer is not None and problem is None:
                    taken.append(answer.name)
                out.append(Named(question, messages, answer, problem))
    return out


def pass_rate(named: list[Named]) -> float:
    return sum(n.problem is None for n in named) / len(named)


def curate_names(named: list[Named]) -> list[Example]:
    """The teacher's names that pass the checks, as training examples."""
    return [
        Example.model_validate({"task": "naming", "item": n.question.item, "messages": n.messages,
                                "answer": n.answer.model_dump_json()})
        for n in named
        if n.problem is None and n.answer is not None
    ]  # fmt: skip


@dataclass(frozen=True)
class Ranking:
    """One test user's LaMAR ranker question (`augment.ranker`): their last items and 20 random candidates beside
    the true next item, each candidate's title scored as the answer."""

    item: str  # DATASET:TARGET, the unit of the split
    candidates: CandidateSet
    messages: list[Message]
    content_free: list[Message]
    options: list[str]


def rankings(dataset_name: str, n: int, seed: int) -> list[Ranking]:
    """The ranker's questions for ``n`` seeded test users (leave-one-out), as `agenticrec rank-llm` asks them, items
    shown without their category (as in the other tasks)."""
    dataset = load_dataset(dataset_name).without_category_field()
    sets = candidate_sets(dataset.split().stage("test"), dataset.n_items, RankerConfig(users=n), seed)
    asked, ids = ranker_requests(dataset, sets, RANK_WORDS), dataset.item_ids()
    return [
        Ranking(f"{dataset_name}:{ids[s.target - 1]}", s, messages, free, options)
        for s, messages, free, options in zip(sets, asked.requests, asked.content_free, asked.options)
    ]


def target_ranks(model_path: Path, questions: list[Ranking], ledger: Path, threads: int) -> np.ndarray:
    """The true item's 0-based rank under the model's calibrated candidate scores (a failed call ranks at random)."""
    results = calibrated(model_path, ledger, threads, RANKER, [q.messages for q in questions],
                         [q.options for q in questions], [q.content_free for q in questions])  # fmt: skip
    scores = np.array([r.scores if r.ok and r.scores else [0.0] * len(q.options) for q, r in zip(questions, results)])
    return ranks_from_scores([q.candidates for q in questions], scores, np.random.default_rng(SEED))


def ndcg10(ranks: np.ndarray) -> float:
    return metrics(ranks)["ndcg@10"]


def curate_rankings(questions: list[Ranking], ranks: np.ndarray) -> list[Example]:
    """The lists where the teacher ranks the true item in its top ``RANK_KEPT``, with the true item as the answer."""
    return [
        Example.model_validate({"task": "ranking", "item": q.item, "messages": q.messages, "options": q.options,
                                "answer": q.options[q.candidates.position]})
        for q, rank in zip(questions, ranks)
        if rank < RANK_KEPT
    ]  # fmt: skip


def critique_gains(paths: list[Path]) -> dict[str, float]:
    """The critique gains (`benchmarks/critique.py`) of base SmolLM2, the tuned model, Qwen-1.5B and the oracle per
    held-out catalogue, hard and soft (critique_gain_soft_<model>_...), each with its 95% interval (..._ci_low,
    ..._ci_high), and the gains' means under the issue's names (critique_gain_finetuned, ...)."""
    per: dict[str, list[float]] = defaultdict(list)
    out: dict[str, float] = {}
    keys = [*(f"critique_gain_{m}" for m in CRITIQUE_USERS), *(f"critique_gain_soft_{m}" for m in SOFT_USERS)]
    wanted = [f"{key}{end}" for key in keys for end in ("", "_ci_low", "_ci_high")]
    for path in paths:
        result = json.loads(path.read_text())
        if missing := [key for key in wanted if key not in result["summary"]]:
            raise SystemExit(f"{path}: no {', '.join(missing)}; run critique.py with --llm smollm2 qwen-1.5b "
                             "finetuned=<the tuned GGUF>")  # fmt: skip
        short = result["protocol"]["dataset"].replace("amazon-", "")
        for key in keys:
            out |= {f"{key}_{short}{end}": result["summary"][f"{key}{end}"] for end in ("_ci_low", "_ci_high")}
            out[f"{key}_{short}"] = gain = result["summary"][key]
            per[key].append(gain)
    return out | {key: float(np.mean(gains)) for key, gains in per.items()}


def markdown(
    summary: dict[str, Any], tuned: dict[str, Any], evaluated: dict[str, Any], models: list[str], groupings: list[int]
) -> str:
    info, gap = machine(), tuned["logit_gap"]
    before, after = (f"{v:.3f}" if v is not None else "n/a (no validation examples)"
                     for v in (tuned["valid_loss_before"], tuned["valid_loss_after"]))  # fmt: skip
    lines = [
        "## Fine-tuning the embedded model on the teacher's checked choices and names (issue 35)",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}",
        "",
        f"Teacher ({summary['teacher']}) on {summary['teacher_items']} items of {summary['train_data']}: accuracy "
        f"{summary['teacher_acc_train']:.3f}. On {summary['naming_groups']} groups of {summary['naming_data']}, "
        f"{summary['teacher_names_pass_train']:.3f} of its names pass the checks. {summary['examples_kept']} "
        "examples kept, split by item "
        f"{tuned['examples']}. LoRA (rank {tuned['config']['rank']}, {tuned['steps']} steps, {tuned['precision']}): "
        f"validation loss {before} → {after}. The merged GGUF against PyTorch: mean "
        f"|Δlogit| {gap['mean_abs']:.3f} (the base's own {tuned['base_logit_gap']['mean_abs']:.3f}), top-1 "
        f"agreement {gap['top1_agreement']:.3f}.",
        "",
        "Choice accuracy on held-out catalogues (calibrated option scores):",
        "",
        "| dataset | items | SmolLM2 | SmolLM2 tuned | Qwen-1.5B | random | majority |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in evaluated.items():
        lines.append(
            f"| {name} | {r['items']} | " + " | ".join(f"{r[m]:.3f}" for m in (*models, "random", "majority")) + " |"
        )
    lines += ["", "Share of each model's choices that are the parent's most common child (the majority baseline's "
              "answer; a model answering from the catalogue's prior would approach 1):", "",
              "| dataset | SmolLM2 | SmolLM2 tuned | Qwen-1.5B |", "|---|---|---|---|"]  # fmt: skip
    for name, r in evaluated.items():
        lines.append(f"| {name} | " + " | ".join(f"{r['majority_picks_' + m]:.3f}" for m in models) + " |")
    lines += [
        "",
        f"Group names that pass the tagger's name checks on held-out catalogues (K-medoids groups, {groupings} per "
        "catalogue, each named beside its earlier siblings):",
        "",
        "| dataset | groups | SmolLM2 | SmolLM2 tuned | Qwen-1.5B |",
        "|---|---|---|---|---|",
    ]
    for name, r in evaluated.items():
        lines.append(f"| {name} | {r['groups']} | " + " | ".join(f"{r['names_' + m]:.3f}" for m in models) + " |")
    lines += [
        "",
        "The critique user's best pick is the wanted item's own level-1 category, on held-out catalogues (calibrated "
        "option scores):",
        "",
        "| dataset | items | SmolLM2 | SmolLM2 tuned | Qwen-1.5B | random | majority |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in evaluated.items():
        cells = (r[f"critique_{m}"] for m in (*models, "random", "majority"))
        lines.append(f"| {name} | {r['items']} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    lines += [
        "",
        "LaMAR's ranker on held-out catalogues: NDCG@10 of the true next item among 21 candidates (calibrated title "
        "scores; Qwen-1.5B only with `--rank-teacher`):",
        "",
        "| dataset | lists | SmolLM2 | SmolLM2 tuned | Qwen-1.5B | random |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in evaluated.items():
        cells = (f"{r[k]:.4f}" if (k := f"ranker_{m}") in r else "not run" for m in (*models, "random"))
        lines.append(f"| {name} | {r['rank_lists']} | " + " | ".join(cells) + " |")
    gains = sorted({key.removeprefix("critique_gain_oracle_") for key in summary
                    if key.startswith("critique_gain_oracle_") and "_ci_" not in key})  # fmt: skip
    if gains:
        lines += [
            "",
            "Critique gain (`benchmarks/critique.py`: NDCG@10 of the critiqued list over the vanilla one, generative "
            "retrieval on category IDs; the simulated user is each model; hard restricts the beam to the picks, soft "
            "adds the option scores times a weight fitted on validation users; in brackets the 95% paired bootstrap "
            "interval over users):",
            "",
            "| dataset | critique | SmolLM2 | SmolLM2 tuned | Qwen-1.5B | oracle |",
            "|---|---|---|---|---|---|",
        ]

        def cell(key: str) -> str:
            return f"{summary[key]:+.1%} [{summary[f'{key}_ci_low']:+.0%}, {summary[f'{key}_ci_high']:+.0%}]"

        for short in gains:
            cells = (cell(f"critique_gain_{m}_{short}") for m in CRITIQUE_USERS)
            lines.append(f"| {short} | hard | " + " | ".join(cells) + " |")
            cells = (cell(f"critique_gain_soft_{m}_{short}") for m in SOFT_USERS)
            lines.append(f"| {short} | soft | " + " | ".join(cells) + " | |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Curation:
    """The teacher's answers on the training catalogues, each beside its questions."""

    items: list[Choice]
    chosen: list[str | None]
    named: list[Named]
    critiques: list[Critique]
    picked: list[str | None]
    rankings: list[Ranking]
    ranks: np.ndarray

    def examples(self) -> list[Example]:
        return (
            curate(self.items, self.chosen)
            + curate_critiques(self.critiques, self.picked)
            + curate_names(self.named)
            + curate_rankings(self.rankings, self.ranks)
        )


def teach(args: argparse.Namespace) -> Curation:
    """The teacher's choices, names, critique picks and rankings on the training catalogues (cached in
    RUNS/teacher)."""
    items = [c for name in args.train_data for c in choices(name, args.teacher_items, SEED)[0]]
    chosen = picks(args.teacher, items, args.runs / "teacher", args.threads)
    groups = [c for name in args.naming_data for c in naming_questions(name, args.groupings, args.runs / "cache", SEED)]
    named = name_groups(args.teacher, groups, args.runs / "teacher", args.threads)
    questions = [q for name in args.train_data for q in critiques(name, args.critique_items, SEED)]
    picked = critique_picks(args.teacher, questions, args.runs / "teacher", args.threads)
    ranked = [q for name in args.rank_data for q in rankings(name, args.rank_items, SEED)]
    ranks = target_ranks(args.teacher, ranked, args.runs / "teacher", args.threads) if ranked else np.array([])
    return Curation(items, chosen, named, questions, picked, ranked, ranks)


def evaluate(name: str, models: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Each model's choice and critique-pick accuracy, name pass rate and ranker NDCG@10 on one held-out catalogue
    (cached in RUNS/<model>-eval), beside the random and majority baselines. The teacher ranks only with
    ``--rank-teacher`` (a 20+1 list costs Qwen-1.5B tens of seconds on one core)."""
    items, prior = choices(name, args.eval_items, SEED)
    chosen = {m: picks(path, items, args.runs / f"{m}-eval", args.threads) for m, path in models.items()}
    figures = {m: accuracy(items, answers) for m, answers in chosen.items()}
    figures |= {f"majority_picks_{m}": majority_share(items, prior, answers) for m, answers in chosen.items()}
    figures |= baselines(items, prior)
    questions = critiques(name, args.eval_items, SEED)
    figures |= {f"critique_{m}": accuracy(questions, critique_picks(path, questions, args.runs / f"{m}-eval",
                                                                    args.threads))
                for m, path in models.items()}  # fmt: skip
    figures |= critique_baselines(questions)
    clusterings = naming_questions(name, args.groupings, args.runs / "cache", SEED)
    names = {m: pass_rate(name_groups(path, clusterings, args.runs / f"{m}-eval", args.threads))
             for m, path in models.items()}  # fmt: skip
    ranked = rankings(name, args.rank_eval_items, SEED)
    rankers = {m: path for m, path in models.items() if m != "qwen15" or args.rank_teacher}
    figures |= {f"ranker_{m}": ndcg10(target_ranks(path, ranked, args.runs / f"{m}-eval", args.threads))
                for m, path in rankers.items()}  # fmt: skip
    figures["ranker_random"] = RANDOM_NDCG10
    return {"items": len(items), **figures, "groups": sum(map(len, clusterings)), "rank_lists": len(ranked),
            **{f"names_{m}": rate for m, rate in names.items()}}  # fmt: skip


def install(tuned: Path, summary: dict[str, Any]) -> str:
    """Copy the tuned GGUF to where the `smollm2-agenticrec` preset looks, if it beats the base SmolLM2 on the
    held-out catalogues (choice accuracy higher, names passing at least as often); say what was done."""
    if not (summary["choice_acc_finetuned"] > summary["choice_acc_base"]
            and summary["names_passing_finetuned"] >= summary["names_passing_base"]):  # fmt: skip
        return "not installed: the tuned model does not beat the base SmolLM2 on the held-out catalogues"
    llm = load_config(None, [], llm=PRESET).llm
    target = expand_path(llm.backends[llm.default.backend].model_path or "")
    with atomic_path(target) as tmp:
        shutil.copyfile(tuned, tmp)
    return f"installed {target}: `--llm {PRESET}` uses it"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher-items", type=int, default=1500)
    parser.add_argument("--eval-items", type=int, default=300)
    parser.add_argument("--critique-items", type=int, default=500, help="critique questions per training catalogue")
    parser.add_argument("--rank-items", type=int, default=60, help="ranker lists per ranking catalogue")
    parser.add_argument("--rank-eval-items", type=int, default=100, help="ranker lists per held-out catalogue")
    parser.add_argument("--rank-teacher", action="store_true", help="the teacher ranks the held-out lists too")
    parser.add_argument("--train-data", nargs="+", default=["amazon-beauty"])
    parser.add_argument("--rank-data", nargs="+", default=["amazon-beauty", "amazon-office"])
    parser.add_argument("--naming-data", nargs="+", default=["movielens-100k", "amazon-beauty", "amazon-office"])
    parser.add_argument("--eval-data", nargs="+", default=["amazon-sports", "amazon-scientific"])
    parser.add_argument("--groupings", nargs="+", type=int, default=GROUPINGS, help="group counts per catalogue")
    parser.add_argument("--teacher", type=Path, default=QWEN, help="the capable model's GGUF")
    parser.add_argument("--runs", type=Path, default=Path("runs/benchmarks-finetune"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--critique", type=Path, nargs="*", default=[],
        help="results of benchmarks/critique.py on held-out catalogues, run with --llm smollm2 qwen-1.5b "
        "finetuned=RUNS/tuned/model.gguf: their critique gains join the summary",
    )  # fmt: skip
    parser.add_argument(
        "--install",
        action="store_true",
        help=f"if the tuned model beats the base on held-out data, install it as `--llm {PRESET}`",
    )
    parser.add_argument("--set", dest="settings", nargs="*", default=[], help="fine-tuning settings key=value")
    parser.add_argument(
        "--prefill", choices=["teacher", "teacher-eval"],
        help="only make the teacher's curation calls, or its held-out evaluation calls, into their ledgers and stop; "
        "the two run beside each other on two cores, and the full run then replays them at no cost",
    )  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    args.runs.mkdir(parents=True, exist_ok=True)
    if args.prefill == "teacher-eval":
        for name in args.eval_data:
            evaluate(name, {"qwen15": args.teacher}, args)
        return
    curation = teach(args)
    if args.prefill == "teacher":
        return
    examples = curation.examples()
    data = args.runs / "examples.jsonl"
    data.write_text("".join(e.model_dump_json() + "\n" for e in examples))
    settings = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.settings)}
    tuned = run_finetune(
        data, args.runs / "tuned", default_model_path(), FinetuneConfig(threads=args.threads, **settings)
    )
    models = {"smollm2": default_model_path(), "tuned": args.runs / "tuned" / MODEL, "qwen15": args.teacher}
    summary: dict[str, Any] = {
        "teacher": args.teacher.name,
        "train_data": ", ".join(args.train_data),
        "teacher_items": len(curation.items),
        "teacher_acc_train": accuracy(curation.items, curation.chosen),
        "naming_data": ", ".join(args.naming_data),
        "naming_groups": len(curation.named),
        "teacher_names_pass_train": pass_rate(curation.named),
        "critique_items": len(curation.critiques),
        "teacher_critique_acc_train": accuracy(curation.critiques, curation.picked),
        "rank_lists": len(curation.rankings),
        "teacher_ranker_ndcg10_train": ndcg10(curation.ranks) if len(curation.ranks) else None,
        "examples_kept": len(examples),
        **{f"{task}_examples_kept": sum(e.task == task for e in examples) for task in CURRICULUM},
        "examples_train": tuned["examples"]["train"],
        "train_minutes": tuned["seconds"] / 60,  # training (over every resume) and the export
        "valid_loss_before": tuned["valid_loss_before"],
        "valid_loss_after": tuned["valid_loss_after"],
        "logit_gap_mean_abs": tuned["logit_gap"]["mean_abs"],
        "logit_gap_top1_agreement": tuned["logit_gap"]["top1_agreement"],
    }
    evaluated = {}
    for name in args.eval_data:
        evaluated[name] = figures = evaluate(name, models, args)
        short = name.replace("amazon-", "")
        summary |= {f"choice_acc_{m}_{short}": figures[m] for m in (*models, "random", "majority")}
        summary |= {f"majority_picks_{m}_{short}": figures[f"majority_picks_{m}"] for m in models}
        summary |= {f"critique_acc_{m}_{short}": figures[f"critique_{m}"] for m in (*models, "random", "majority")}
        summary |= {f"names_pass_{m}_{short}": figures[f"names_{m}"] for m in models}
        summary |= {
            f"ranker_ndcg10_{m}_{short}": figures[k] for m in (*models, "random") if (k := f"ranker_{m}") in figures
        }
    summary |= {name: float(np.mean([figures[key] for figures in evaluated.values()])) for name, key in MEANS.items()}
    summary |= critique_gains(args.critique)
    summary["wall_minutes"] = (time.perf_counter() - started) / 60
    protocol = {
        "task": "the tagger annotator's request: an item's level-3 category among its level-2 category's children, "
        "chosen by calibrated option scores",
        "naming": f"the tagger's single-group naming request for K-medoids groups ({args.groupings} per catalogue, "
        f"MiniLM item-text embeddings, seed {SEED}) of {args.naming_data} (train) and {args.eval_data} (eval); a name "
        "passes when the tagger's name checks accept it",
        "train": f"{args.teacher_items} seeded items of {args.train_data}; the teacher's choices that match the label",
        "critique": f"the simulated user's request (`tagger.critique.simulated_user`) for {args.critique_items} seeded "
        "items per training catalogue: the catalogue's level-1 categories as options; kept when the teacher's "
        "best-scored (calibrated) category is the item's own; evaluated as the share of held-out items whose own "
        "category is the model's best-scored one",
        "ranking": f"LaMAR's 20+1 ranker request (`augment.ranker`, each field cut to {RANK_WORDS} words, no category, "
        "calibrated title scores) "
        f"for {args.rank_items} seeded leave-one-out test users of each of {args.rank_data} (train) and "
        f"{args.rank_eval_items} of each of {args.eval_data} (eval); kept when the teacher ranks the true item in its "
        f"top {RANK_KEPT}, with the true item's title as the answer; NDCG@10 of the true item's rank",
        "eval": f"{args.eval_items} seeded items of each of {args.eval_data} (no example came from them)",
        "finetune": tuned["config"],
        "tolerance": tuned["tolerance"],
    }
    save(NAME, {"evaluated": evaluated, "finetune": tuned}, protocol, summary=summary)
    update_section(NAME, markdown(summary, tuned, evaluated, list(models), args.groupings))
    print(json.dumps(summary, indent=2))
    if args.install:
        print(install(args.runs / "tuned" / MODEL, summary))


if __name__ == "__main__":
    main()
