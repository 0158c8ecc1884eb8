"""RecGPT's commands: ``agenticrec intent`` (compressed histories, interest mining, tag prediction and scoring,
HR@K), ``agenticrec explain`` (the offline explanation table and its lookup) and ``agenticrec judge`` (the LLM judge
and its agreement with labels)."""

from __future__ import annotations

import getpass
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.commands import stage_command
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts
from agenticrec.intent.api import RecGPT
from agenticrec.pipeline import RunConfig

app = typer.Typer(
    help="RecGPT user intent: compressed histories, interests, predicted tags, HR@K.", no_args_is_help=True
)


def _print(summary: dict[str, Any], keys: list[str]) -> None:
    Console().print({k: summary[k] for k in keys if k in summary})


def _hit_table(summary: dict[str, Any], methods: Sequence[str], hit_ks: Sequence[int], title: str) -> Table:
    table = Table("method", *(f"HR@{k}" for k in hit_ks), title=title)
    for method in methods:
        table.add_row(method, *(f"{summary[f'hr{k}_{method}']:.4f}" for k in hit_ks))
    return table


@stage_command(app, "intent compress")
def compress(cfg: RunConfig, fresh: bool) -> None:
    """Compress the sampled users' behaviour histories; token counts before and after (the LLM's tokenizer)."""
    _print(RecGPT(cfg).compress(fresh), ["users", "tokens_before_mean", "tokens_after_mean",
           "compression_token_reduction", "fit_share_before", "fit_share_after", "token_counter"])  # fmt: skip


@stage_command(app, "intent item-tags")
def item_tags(cfg: RunConfig, fresh: bool) -> None:
    """Tag every item with role `item_tagger` (cached per item; category tags where it gives none): TAR's tags."""
    Console().print(RecGPT(cfg).item_tags(fresh))


@stage_command(app, "intent mine")
def mine(cfg: RunConfig, fresh: bool) -> None:
    """Mine 3-8 interests per sampled user, each with a rationale and evidence from the user's own history."""
    _print(RecGPT(cfg).mine(fresh), ["users", "failed_calls", "interests", "interests_per_user_mean",
           "repaired_interests", "dropped_interests", "evidence_valid_share"])  # fmt: skip


@stage_command(app, "intent tags")
def tags(cfg: RunConfig, fresh: bool) -> None:
    """Predict K tags per sampled user (kinds of products wanted next) from the interests and the history."""
    _print(RecGPT(cfg).tags(fresh), ["users", "failed_calls", "tags_per_user_mean", "tags_removed"])


@stage_command(app, "intent evaluate")
def evaluate(cfg: RunConfig, fresh: bool) -> None:
    """HR@K of the predicted tags against popular, recent, transition and hybrid baselines; writes the report."""
    from agenticrec.intent.report import METHODS

    summary = RecGPT(cfg).evaluate(fresh)["summary"]
    Console().print(_hit_table(summary, METHODS, cfg.intent.hit_ks, f"{summary['users_evaluated']} users"))
    Console().print(f"wrote {artifacts.intent_dir(cfg.run_dir) / artifacts.REPORT}")


@stage_command(app, "intent score")
def score(cfg: RunConfig, fresh: bool) -> None:
    """Score the category prior's top `intent.candidates` per user as tags (role `tag_predictor`), at the validation
    and the test cut-off, and once without a history (content-free)."""
    _print(RecGPT(cfg).score(fresh), ["users", "candidates_per_user", "scored", "failed_users"])


@stage_command(app, "intent hybrid")
def hybrid(cfg: RunConfig, fresh: bool) -> None:
    """HR@K of each category prior, the LLM score (after `intent score`) and the hybrid of them fitted on the
    validation cut-off, with and without the LLM score, on the test cut-off."""
    result = RecGPT(cfg).hybrid(fresh)
    summary = result["summary"]
    methods = sorted({key.split("_", 1)[1] for key in summary if key.startswith("hr")})
    title = (f"{summary['users_evaluated']} users, target among the candidates for "
             f"{summary['candidate_recall']:.1%}")  # fmt: skip
    Console().print(_hit_table(summary, methods, cfg.intent.hit_ks, title))
    Console().print(result["weights"])


@stage_command(app, "intent curate")
def curate(
    cfg: RunConfig, fresh: bool, users: int = typer.Option(20, help="judge every tag of this many sampled users")
) -> None:
    """Judge-filtered, category-balanced (history, tag, interest, rationale) samples for a later fine-tune."""
    _print(RecGPT(cfg).curate(users, fresh), ["users", "tags_judged", "samples", "dropped_not_passed",
           "dropped_category_cap"])  # fmt: skip


explain_app = typer.Typer(help="Personalised explanations: build the offline table, look one up.", no_args_is_help=True)


@stage_command(explain_app, "explain build")
def explain_build(
    cfg: RunConfig,
    fresh: bool,
    judge: bool = typer.Option(True, help="judge a sample of the explanations (intent.explain_judge_pairs)"),
) -> None:
    """Explain the items closest to each mined interest (role `explainer`); check and judge the explanations."""
    summary = RecGPT(cfg).explain(judge, fresh)
    Console().print({k: v for k, v in summary.items() if not isinstance(v, str)})


@explain_app.command("show")
def explain_show(
    run_dir: Path = typer.Argument(help="a run directory where `agenticrec explain build` has been"),
    user: str = typer.Option(..., help="user id"),
    item: str = typer.Option(..., help="item id"),
) -> None:
    """The explanation of ``item`` for ``user``, under the user's interest closest to the item (no LLM call)."""
    from agenticrec.intent.explanations import ExplanationLookup

    lookup = ExplanationLookup.load(run_dir)
    if user not in lookup.user_interests:
        raise AgenticRecError(f"user {user!r} has no mined interests in {run_dir} (only the sampled users have)")
    started = time.perf_counter()
    found = lookup.explain(user, item)
    elapsed = (time.perf_counter() - started) * 1000
    if found is None:
        Console().print(f"no explanation for user {user!r} and item {item!r}: none of the user's mined interests has "
                        "this item among its explained items")  # fmt: skip
        raise typer.Exit(1)
    Console().print(f"[bold]{found.interest}[/bold] (similarity {found.similarity:.2f}, lookup {elapsed:.3f} ms)")
    Console().print(found.explanation)


judge_app = typer.Typer(help="LLM judge: verdicts per criterion and their agreement with labels.", no_args_is_help=True)
RunDirArgument = typer.Argument(help="a run directory where `agenticrec judge run` has been")


def agreement_table(result: dict[str, Any], title: str) -> Table:
    table = Table("criterion", "cases", "accuracy", "precision", "recall", "F1", "kappa", title=title)
    for name, m in result["criteria"].items():
        table.add_row(
            name, str(m["cases"]), *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "recall", "f1", "kappa"))
        )
    return table


@stage_command(judge_app, "judge run")
def judge_run(cfg: RunConfig, fresh: bool) -> None:
    """Judge a constructed labelled set (real intent outputs and controlled defects); agreement per criterion."""
    from agenticrec.intent.judging import AGREEMENT, judge_dir

    result = RecGPT(cfg).judge(fresh)
    Console().print(agreement_table(result, f"judge ({result['choice_mode']}) on {result['cases']} constructed cases"))
    Console().print(f"wrote {judge_dir(cfg.run_dir) / AGREEMENT}")


@judge_app.command("calibrate")
def judge_calibrate(
    run_dir: Path = RunDirArgument, seed: int = typer.Option(0, help="the development split's seed")
) -> None:
    """Fit the judge's calibration on labels again from the judged cases (no LLM call); updates agreement.json."""
    from agenticrec.intent.judging import recalibrate

    result = recalibrate(run_dir, seed)
    table = Table("criterion", "held-out kappa", "judge only", "lexical only", "usable", title="calibrated judge")
    for name, m in result["calibrated"].items():
        cells = [m.get(k) for k in ("kappa", "kappa_judge_only", "kappa_lexical_only")]
        table.add_row(
            name, *("-" if c is None else f"{c:.3f}" for c in cells), "refused" if "refused" in m else str(m["usable"])
        )
    Console().print(table)
    for name, m in result["calibrated"].items():
        if "refused" in m:
            Console().print(f"{name}: {m['refused']}")


@judge_app.command("label")
def judge_label(
    run_dir: Path = RunDirArgument,
    sample: int = typer.Option(50, help="cases to show (seeded, skipping those already labelled)"),
    seed: int = typer.Option(0, help="sampling seed"),
) -> None:
    """Label judged cases yourself (y = passes, n = fails, s = skip, q = quit); stored in judge/labels.sqlite."""
    from agenticrec.intent.judging import cases_to_label
    from agenticrec.judge import CRITERIA

    cases, store = cases_to_label(run_dir, sample, seed)
    labeller = getpass.getuser()
    console = Console()
    try:
        for n, case in enumerate(cases, start=1):
            console.rule(f"{n}/{len(cases)}  {case.criterion}")
            console.print(case.text(2000), markup=False, highlight=False)
            answer = typer.prompt(CRITERIA[case.criterion].question + " [y/n/s/q]").strip().lower()
            if answer.startswith("q"):
                break
            if answer[:1] in ("y", "n"):
                store.put(case, answer.startswith("y"), labeller)
    finally:
        store.close()
    console.print(f"labels kept in {run_dir / 'judge' / 'labels.sqlite'}; `agenticrec judge agreement {run_dir}`")


@judge_app.command("agreement")
def judge_agreement(run_dir: Path = RunDirArgument) -> None:
    """Agreement of the judge's verdicts with your labels (from `agenticrec judge label`)."""
    from agenticrec.intent.judging import human_agreement

    result = human_agreement(run_dir)
    Console().print(agreement_table(result, f"judge against {result['labelled']} human labels"))
