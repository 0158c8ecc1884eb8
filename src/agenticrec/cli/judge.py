"""``agenticrec judge``: the LLM judge of interests, tags and explanations, and its agreement with labels."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.cli.options import stage_command
from agenticrec.pipeline import StageRun

app = typer.Typer(help="LLM judge: verdicts per criterion and their agreement with labels.", no_args_is_help=True)
RunDirArgument = typer.Argument(help="a run directory where `agenticrec judge run` has been")


def agreement_table(result: dict[str, Any], title: str) -> Table:
    table = Table("criterion", "cases", "accuracy", "precision", "recall", "F1", "kappa", title=title)
    for name, m in result["criteria"].items():
        table.add_row(
            name, str(m["cases"]), *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "recall", "f1", "kappa"))
        )
    return table


@stage_command(app, "judge run")
def run(stage: StageRun) -> None:
    """Judge a constructed labelled set (real intent outputs and controlled defects); agreement per criterion."""
    from agenticrec.intent.judging import AGREEMENT, judge_dir, run_judge

    cfg = stage.config
    result = run_judge(stage.dataset, cfg.intent, cfg.judge, stage.llm, cfg.run_dir, cfg.seed)
    Console().print(agreement_table(result, f"judge ({result['choice_mode']}) on {result['cases']} constructed cases"))
    Console().print(f"wrote {judge_dir(cfg.run_dir) / AGREEMENT}")


@app.command()
def label(
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


@app.command()
def agreement(run_dir: Path = RunDirArgument) -> None:
    """Agreement of the judge's verdicts with your labels (from `agenticrec judge label`)."""
    from agenticrec.intent.judging import human_agreement

    result = human_agreement(run_dir)
    Console().print(agreement_table(result, f"judge against {result['labelled']} human labels"))
