"""Individual evolution: one agent's trials in an Optuna study stored in SQLite (``RUN_DIR/evolve.db``), by seeded
random search, TPE, the LLM proposer, or LLM proposals enqueued into TPE. Every method's first trial is the card's
default config. A killed study resumes: finished trials are kept, and a trial that was running is run again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.proposer import propose
from agenticrec.evolve.trials import Rewards, run_trial, write_trial_base
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig
from agenticrec.sections.evolve import EvolveConfig

log = logging.getLogger(__name__)
DATABASE = "evolve.db"


def storage_url(run_dir: Path) -> str:
    return f"sqlite:///{(run_dir / DATABASE).resolve()}"


def study_name(card: AgentCard, evolve: EvolveConfig, seed: int) -> str:
    return f"{card.name}-{evolve.method}-seed{seed}"


def open_study(run_dir: Path, name: str, evolve: EvolveConfig, seed: int) -> optuna.Study:
    run_dir.mkdir(parents=True, exist_ok=True)
    sampler = (
        optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
        if evolve.method in ("tpe", "llm-tpe")
        else optuna.samplers.RandomSampler(seed=seed)  # unused: random and llm trials are enqueued
    )
    return optuna.create_study(
        study_name=name, storage=storage_url(run_dir), direction="maximize", sampler=sampler, load_if_exists=True
    )


def recover(study: optuna.Study) -> int:
    """Trials left running by a killed process: marked failed, their configs enqueued to run again."""
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number, **trial.user_attrs})
    return len(stale)


def history(study: optuna.Study) -> list[dict[str, Any]]:
    """Finished and failed trials in order: the experience memory the LLM proposer reads."""
    out = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        if "retry_of" in trial.user_attrs or trial.user_attrs.get("interrupted"):
            continue
        out.append(
            {
                "number": trial.number,
                "params": trial.params,
                "inner": trial.value,
                "error": trial.user_attrs.get("error"),
            }
        )
    return out


def next_config(
    study: optuna.Study, card: AgentCard, evolve: EvolveConfig, seed: int, client: LLMClient | None
) -> None:
    """Enqueue the next trial's config where the method (not TPE) chooses it."""
    if study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        return  # a recovered trial runs first
    number = len(study.trials)
    if number == 0:
        study.enqueue_trial(card.space.default(), user_attrs={"source": "default"})
    elif evolve.method == "random":
        config = card.space.sample(np.random.default_rng([seed, number]))  # per trial: a resumed study goes on
        study.enqueue_trial(config, user_attrs={"source": "random"})
    elif evolve.method == "llm" or (evolve.method == "llm-tpe" and number < evolve.llm_proposals):
        assert client is not None
        proposal = propose(client, card, history(study), evolve.history_shown)
        if proposal is None:
            config = card.space.sample(np.random.default_rng([seed, number]))
            study.enqueue_trial(config, user_attrs={"source": "random (the LLM gave no valid proposal)"})
        else:
            config, rationale = proposal
            study.enqueue_trial(config, user_attrs={"source": "llm", "rationale": rationale})


def evolve_agent(
    config: RunConfig, card: AgentCard, client: LLMClient | None = None, progress: bool = True
) -> optuna.Study:
    """Run (or resume) the study until ``evolve.trials`` trials have finished."""
    evolve, run_dir = config.evolve, config.run_dir
    if evolve.method in ("llm", "llm-tpe") and client is None:
        raise ValueError(f"evolve.method={evolve.method} needs an LLM client")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = write_trial_base(config)
    name = study_name(card, evolve, config.seed)
    study = open_study(run_dir, name, evolve, config.seed)
    if recovered := recover(study):
        log.warning("%s: %d interrupted trial(s) will run again", name, recovered)
    rewards = Rewards(evolve.tail_weight, evolve.cost_weight)
    while len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < evolve.trials:
        next_config(study, card, evolve, config.seed, client)
        trial = study.ask()
        params = card.space.suggest(trial)
        try:
            outcome = run_trial(
                base, card, params, evolve.proxy, run_dir / "trials" / name / str(trial.number), rewards
            )
        except Exception as err:  # a config the model cannot train (e.g. out of memory) is a failed trial
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:300])
            study.tell(trial, state=TrialState.FAIL)
            continue
        for key in ("outer", "seconds", "valid"):
            trial.set_user_attr(key, outcome[key])
        study.tell(trial, outcome["inner"])
        if progress:
            best = study.best_value
            print(f"{name} trial {trial.number}: {card.inner_reward} {outcome['inner']:.4f} (best {best:.4f}) {params}")
    return study
