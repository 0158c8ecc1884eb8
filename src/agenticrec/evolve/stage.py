"""The evolve stage: run or resume one agent's study, and report every study of a run directory (best-so-far
curves, the evolved configs with the LLM's rationales, inner and outer rewards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from agenticrec.config import save_config
from agenticrec.errors import AgenticRecError, ConfigError
from agenticrec.evolve.card import AgentCard, load_card
from agenticrec.evolve.composition import COMPOSE
from agenticrec.evolve.study import DATABASE, LLM_METHODS, evolve_agent, storage_url
from agenticrec.evolve.trials import Rewards, run_trial, write_trial_base
from agenticrec.io import atomic_write_text, write_json
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, stage_run
from agenticrec.render import render_html

REPORT = "evolve.json"
HTML_REPORT = "report.html"
BEST = "best.json"  # the best config retrained at full fidelity: its validation and test metrics
CURVES = "evolve_best_so_far.png"


def run_evolution(config: RunConfig, fresh: bool = False) -> dict[str, Any]:
    """Evolve ``evolve.agent`` by ``evolve.method`` in ``run_dir`` (resuming a study that is there), then report;
    ``fresh`` starts the run directory over."""
    card = load_card(config.evolve.agent)
    if card.role != "retriever":
        raise ConfigError(f"{card.name} is a {card.role} agent: it evolves in `agenticrec evolve compose`")
    with stage_run(config, "evolve run", fresh=fresh):
        if config.evolve.method in LLM_METHODS:
            with LLMClient(config.llm, config.run_dir) as client:
                client.preflight()  # a missing key fails here, not after trial 0 has trained
                save_config(config, config.run_dir)  # `evolve resume` reads it if this run is killed
                study = evolve_agent(config, card, client)
        else:
            save_config(config, config.run_dir)
            study = evolve_agent(config, card)
        if config.evolve.retrain:
            retrain_best(config, card, study)
    return report(config.run_dir)


def retrain_best(config: RunConfig, card: AgentCard, study: optuna.Study) -> dict[str, Any]:
    """The study's best config retrained at full fidelity (``evolve.full`` instead of the proxy) in
    ``run_dir/best/<study>``; its record is written to best.json."""
    rewards = Rewards(config.evolve.tail_weight, config.evolve.cost_weight)
    run_dir = config.run_dir / "best" / study.study_name
    outcome = run_trial(write_trial_base(config), card, study.best_params, config.evolve.full, run_dir, rewards)
    record = {"study": study.study_name, "params": study.best_params, "run_dir": str(run_dir), **outcome}
    write_json(config.run_dir / BEST, record)
    return record


def studies(run_dir: Path) -> list[optuna.Study]:
    if not (run_dir / DATABASE).is_file():
        raise AgenticRecError(f"{run_dir} has no {DATABASE}; start one with `agenticrec evolve run`")
    url = storage_url(run_dir)
    return [optuna.load_study(study_name=s.study_name, storage=url) for s in optuna.get_all_study_summaries(url)]


def study_record(study: optuna.Study) -> dict[str, Any]:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    best_so_far, best = [], float("-inf")
    for trial in complete:
        best = max(best, float(trial.value or 0.0))
        best_so_far.append(best)
    trials = [
        {
            "number": t.number,
            "state": t.state.name,
            "params": t.params,
            "inner": t.value,
            "outer": t.user_attrs.get("outer"),
            "source": t.user_attrs.get("source", "tpe"),
            "rationale": t.user_attrs.get("rationale"),
            "retry_of": t.user_attrs.get("retry_of"),
            "error": t.user_attrs.get("error"),
        }
        for t in study.trials
    ]
    best_trial = study.best_trial if complete else None
    durations = [t.duration.total_seconds() for t in study.trials if t.duration is not None]
    return {
        "study": study.study_name,
        "seconds": sum(durations),  # trials' own time (with the LLM's proposals), however often the study resumed
        "complete": len(complete),
        "failed": sum(t.state == TrialState.FAIL for t in study.trials),
        "best_inner": best_trial.value if best_trial else None,
        "best_outer": best_trial.user_attrs.get("outer") if best_trial else None,
        "best_params": best_trial.params if best_trial else None,
        "best_so_far": best_so_far,
        "trials": trials,
    }


def report(run_dir: Path) -> dict[str, Any]:
    """evolve.json, the best-so-far plot and report.html of every study in ``run_dir``, with the composition
    (compose.json) where ``run_dir`` has one."""
    composition_file = run_dir / COMPOSE
    if not (run_dir / DATABASE).is_file() and not composition_file.is_file():
        raise AgenticRecError(
            f"{run_dir} has neither {DATABASE} nor {COMPOSE}; start with `agenticrec evolve run` or `evolve compose`"
        )
    records = [study_record(s) for s in studies(run_dir)] if (run_dir / DATABASE).is_file() else []
    result: dict[str, Any] = {"studies": records}
    if (run_dir / BEST).is_file():
        result["best_full_fidelity"] = json.loads((run_dir / BEST).read_text())
    if composition_file.is_file():
        result["composition"] = json.loads(composition_file.read_text())
    write_json(run_dir / REPORT, result)
    if records:
        plot(records, run_dir / CURVES)
    page = render_html(
        "evolve_report.html.j2",
        run_dir=str(run_dir),
        studies=records,
        curves=CURVES if records else None,
        best=result.get("best_full_fidelity"),
        composition=result.get("composition"),
    )
    atomic_write_text(run_dir / HTML_REPORT, page)
    return result


def plot(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for record in records:
        axes.plot(range(1, len(record["best_so_far"]) + 1), record["best_so_far"], label=record["study"])
    axes.set_xlabel("finished trials")
    axes.set_ylabel("best validation reward so far")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
