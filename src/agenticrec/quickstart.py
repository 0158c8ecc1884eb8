"""The README's main job: MovieLens-100k from the `recbole` package, a descriptor vocabulary built and assigned
by the embedded LLM, generative retrieval on descriptor IDs against popularity and SASRec, example lists with
their descriptor paths, one critique example, and an HTML report. Sized for about 15 minutes on 2 CPU cores.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from agenticrec.io import atomic_write_text
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.pipeline import TrainedRun, load_config, load_run, train_and_evaluate
from agenticrec.pipeline.stages import tag_assign, tag_build
from agenticrec.pipeline.tables import TABLE_METRICS, recommendation_rows, results_table, rows_table
from agenticrec.render import render_html
from agenticrec.tagger.critique.experiment import run_semantic_ids
from agenticrec.tagger.critique.simulated_user import ROLE, level1_options, pick_level1
from agenticrec.tagger.report import write_report

DATA = ["data.name=movielens-100k"]
TAGGER = [  # as configs/tagger-movielens-100k.yaml: named K-medoids groups label the sample, a classifier routes
    # the rest
    "tagger.build.architect=grouped",
    "tagger.build.labels=groups",
    "tagger.build.max_depth=2",
    "tagger.build.initial_children=6",
    "tagger.build.split_threshold=40",
    "tagger.build.max_items_per_split=300",
    "tagger.build.naming_retries=0",  # SmolLM2 rarely passes the name checks; its failures fall back to keyphrases
    "llm.max_repairs=0",
    "tagger.assign.method=classifier",
    "tagger.assign.labels_per_child=1",
    "tagger.assign.max_check_share=0",
]
RUNS = {
    "popularity": ["model.name=popularity"],
    "sasrec-ce": ["model.name=sasrec", "model.loss=ce", "model.dropout=0.2", "train.patience=5", "train.max_minutes=2"],
    # CPU-sized: the papers' 4+4 layers with d_ff 1024 over every example take about 20 minutes an epoch here
    "generative-descriptors": [
        "model.name=generative",
        "semantic_ids.method=descriptors",
        "model.num_layers=2",
        "model.d_ff=256",
        "model.num_heads=4",
        "model.d_kv=32",
        "model.max_items=10",
        "model.examples_per_user=20",
        "train.schedule=cosine",
        "train.epochs=8",  # the cosine schedule must reach its end: 8 epochs took 6.6 minutes on one busy thread
        "train.patience=5",
        "train.max_minutes=15",  # a safety cap only: a budget that cut the schedule short made results depend on load
    ],
}
EXAMPLE_USERS = 3
LIST_LENGTH = 5


def run_quickstart(root: Path, overrides: list[str]) -> Path:
    """Run every stage under ``root`` and return the path of the HTML report."""
    console = Console()
    started = time.perf_counter()
    tags = root / "tags"
    tag_config = load_config(None, [*DATA, *TAGGER, *overrides, f"run_dir={tags}"])
    console.rule("1/4 AgenticTagger: build and assign the descriptor vocabulary")
    vocabulary = tag_build(tag_config)
    console.print(vocabulary.tree())
    tag_assign(tag_config)
    tagger_report = write_report(tags)
    console.rule("2/4 train and evaluate (leave-one-out, full ranking)")
    results = {}
    for name, run in RUNS.items():
        config = load_config(
            None, [*DATA, *run, f"semantic_ids.tagger_run={tags}", *overrides, f"run_dir={root / name}"]
        )
        results[name] = train_and_evaluate(config)
    table = results_table(results, "MovieLens-100k, leave-one-out, full ranking (test)")
    console.print(table)
    console.rule("3/4 recommendations with their descriptor paths")
    generative = load_run(root / "generative-descriptors")
    examples = example_lists(generative)
    for user, rows in examples.items():
        console.print(rows_table(rows, f"user {user}"))
    console.rule("4/4 critique: keep only items under the descriptors an LLM user picks for the wanted item")
    # the simulated user picks by calibrated option scores (best, and a second within 0.5) or abstains: generating
    # a list, the embedded model names every descriptor
    user_llm = load_config(None, [f"llm.roles.{ROLE}.choice=calibrated", *overrides]).llm
    critique = critique_example(generative, user_llm)
    console.print(critique["summary"])
    for label in ("vanilla", "critique"):
        if critique.get(label):
            console.print(rows_table(critique[label], f"{label} list"))
    report = write_quickstart_report(root, results, examples, critique, tagger_report, time.perf_counter() - started)
    console.print(f"wrote {report}")
    return report


def example_lists(run: TrainedRun) -> dict[str, list[dict[str, str]]]:
    """Top items after each of the first test users' histories."""
    test = run.split.stage("test")
    users = list(range(min(EXAMPLE_USERS, len(test.targets))))
    ids = run_semantic_ids(run.semantic_ids, run.config.run_dir)
    items, scores = run.model.recommend([test.histories[u] for u in users], k=LIST_LENGTH)
    return {
        run.dataset.user_ids[u]: recommendation_rows(run.dataset, ids, items[k], scores[k]) for k, u in enumerate(users)
    }


def critique_example(run: TrainedRun, llm: LLMConfig) -> dict[str, Any]:
    """The first test user's list, vanilla and restricted to the level-1 descriptors an LLM user (``llm``) picks
    from the wanted item's text without its category field (as in the critique experiment)."""
    model = run.model
    ids = run_semantic_ids(run.semantic_ids, run.config.run_dir)
    options = level1_options(ids, run.config.semantic_ids.tagger_run)
    if len(options) < 2:
        return {
            "summary": f"The vocabulary has {len(options)} level-1 descriptor(s), so there is nothing to steer "
            "(the embedded 135M model builds degenerate vocabularies; see README)."
        }
    test = run.split.stage("test")
    history, target = test.histories[0], int(test.targets[0])
    wanted = run.dataset.without_category_field().item_text(target)
    with LLMClient(llm, run.config.run_dir) as client:
        picks = pick_level1(client, [wanted], options)[0]
    if picks is None:
        return {"summary": "The simulated user's LLM call failed; see `agenticrec llm stats`."}
    if not picks:
        return {"summary": "The simulated user abstains: no level-1 descriptor fits the wanted item better than none."}
    allowed = ids.items_under([(p,) for p in picks])
    vanilla = model.recommend([history], k=LIST_LENGTH)
    steered = model.recommend([history], k=LIST_LENGTH, allowed=allowed)
    names = [o.name for o in options if o.token in picks]
    return {
        "summary": f"user {run.dataset.user_ids[0]} wants: {wanted[:90]}\nthe LLM user picks: {', '.join(names)}",
        "picks": names,
        "vanilla": recommendation_rows(run.dataset, ids, vanilla[0][0], vanilla[1][0], target),
        "critique": recommendation_rows(run.dataset, ids, steered[0][0], steered[1][0], target),
    }


def write_quickstart_report(
    root: Path,
    results: dict[str, dict[str, Any]],
    examples: dict[str, list[dict[str, str]]],
    critique: dict[str, Any],
    tagger_report: Path,
    seconds: float,
) -> Path:
    """One HTML page: the results table, example lists, the critique example and a link to the tagger report."""
    page = render_html(
        "quickstart_report.html.j2",
        metrics=TABLE_METRICS,
        results=results,
        examples=examples,
        critique=critique,
        tagger_report=tagger_report.relative_to(root).as_posix(),
        minutes=seconds / 60,
    )
    path = root / "report.html"
    atomic_write_text(path, page)
    return path
