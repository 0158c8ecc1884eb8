"""Individual evolution: one agent's trials in an Optuna study stored in SQLite (``RUN_DIR/evolve.db``), by seeded
random search, TPE, the LLM proposer, LLM proposals enqueued into TPE, the LLM choosing among TPE's candidates, or
a bandit over one-decision moves. Every method's first trial is the card's default config.
A killed study resumes: finished trials are kept, and a trial that was running is run again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from agenticrec.errors import AgenticRecError
from agenticrec.evolve.bandit import next_action
from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.chooser import candidates, choose_config
from agenticrec.evolve.config import EvolveConfig
from agenticrec.evolve.proposer import propose
from agenticrec.evolve.trials import Rewards, run_trial, write_trial_base
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig

log = logging.getLogger(__name__)
DATABASE = "evolve.db"
LLM_METHODS = ("llm", "llm-tpe", "chooser")


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
    """Finished and failed trials in order, less those a kill interrupted (they ran again): the experience memory
    the LLM methods read and the bandit's posterior."""
    interrupted = {t.user_attrs["retry_of"] for t in study.get_trials(deepcopy=False) if "retry_of" in t.user_attrs}
    out = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        if trial.number in interrupted:
            continue
        out.append(
            {
                "number": trial.number,
                "params": trial.params,
                "inner": trial.value,
                "error": trial.user_attrs.get("error"),
                "arm": trial.user_attrs.get("arm"),
                "incumbent": trial.user_attrs.get("incumbent"),
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
    rng = np.random.default_rng([seed, number])  # per trial: a resumed study goes on
    if number == 0:
        study.enqueue_trial(card.space.default(), user_attrs={"source": "default"})
        return
    if evolve.method == "tpe" or (evolve.method == "llm-tpe" and number >= evolve.llm_proposals):
        return  # TPE suggests when the trial is asked
    levels = card.space.levels(evolve.levels)
    past = history(study)
    config, attrs = card.space.sample(rng), dict[str, Any](source="random")
    if evolve.method == "llm" or (evolve.method == "llm-tpe" and number < evolve.llm_proposals):
        assert client is not None
        proposal = propose(client, card, past, levels, evolve.memory, rng)
        if proposal is None:
            attrs = {"source": "random (the LLM gave no answer)"}
        else:
            config, attrs = proposal.config, {"source": "llm", "rationale": proposal.rationale}
            if proposal.repeat_of is not None:
                attrs |= {"source": "llm (a repeat, one decision changed)", "repeat_of": proposal.repeat_of}
    elif evolve.method == "chooser":
        assert client is not None
        tried = [t["params"] for t in past]
        if options := candidates(study, card, evolve.candidates, [seed, number], tried):
            choice = choose_config(client, card, past, options, levels, evolve.memory)
            source = "chooser" if choice.answered else "tpe (the LLM gave no answer)"
            config, attrs = choice.config, {"source": source, "candidates": choice.candidates}
    elif evolve.method == "bandit" and (action := next_action(card.space, past, levels, rng)) is not None:
        config, attrs = action.config, {"source": "bandit", "arm": action.arm, "incumbent": action.incumbent}
    study.enqueue_trial(config, user_attrs=attrs)


def check_study(run_dir: Path, name: str, card: AgentCard) -> None:
    """Refuse a run directory whose study database holds another agent's or method's study, or this study
    made from a card whose content has changed since."""
    if not (run_dir / DATABASE).is_file():
        return
    for summary in optuna.get_all_study_summaries(storage_url(run_dir)):
        if summary.study_name.rsplit("-seed", 1)[0] != name.rsplit("-seed", 1)[0]:
            raise AgenticRecError(
                f"{run_dir / DATABASE} holds the study {summary.study_name}; it cannot be mixed with {name}: choose "
                "another --run-dir, or pass --fresh to start it over"
            )
        recorded = summary.user_attrs.get("card")
        if summary.study_name == name and recorded is not None and recorded != card.model_dump(mode="json"):
            raise AgenticRecError(
                f"the agent card {card.name} has changed since {run_dir / DATABASE} started {name}; a study "
                "resumes only with the card it began with: choose another --run-dir, or pass --fresh"
            )


def evolve_agent(
    config: RunConfig, card: AgentCard, client: LLMClient | None = None, progress: bool = True
) -> optuna.Study:
    """Run (or resume) the study until ``evolve.trials`` trials have finished, locally or on Ray."""
    evolve = config.evolve
    if evolve.method in LLM_METHODS and client is None:
        raise ValueError(f"evolve.method={evolve.method} needs an LLM client")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = study_name(card, evolve, config.seed)
    check_study(config.run_dir, name, card)
    study = open_study(config.run_dir, name, evolve, config.seed)
    study.set_user_attr("card", card.model_dump(mode="json"))
    if recovered := recover(study):
        log.warning("%s: %d interrupted trial(s) will run again", name, recovered)
    runner = Runner(config, card, study, client, progress)
    if evolve.executor == "ray":
        runner.on_ray()
    else:
        while runner.remaining() > 0:
            trial, job = runner.ask()
            try:
                runner.tell(trial, job[2], run_trial(*job))
            except Exception as err:  # a config the model cannot train (e.g. out of memory) is a failed trial
                runner.tell(trial, job[2], err)
    return study


class Runner:
    """Asks the study for trials, runs them, and tells it the outcome (rewards, or the failure)."""

    def __init__(
        self, config: RunConfig, card: AgentCard, study: optuna.Study, client: LLMClient | None, progress: bool
    ) -> None:
        self.config, self.card, self.study, self.client, self.progress = config, card, study, client, progress
        self.base = write_trial_base(config)
        self.rewards = Rewards(config.evolve.tail_weight, config.evolve.cost_weight)

    def remaining(self, in_flight: int = 0) -> int:
        done = len(self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        return self.config.evolve.trials - done - in_flight

    def ask(self) -> tuple[optuna.Trial, tuple[Any, ...]]:
        """The next trial and the arguments of ``run_trial`` for it."""
        next_config(self.study, self.card, self.config.evolve, self.config.seed, self.client)
        trial = self.study.ask()
        params = self.card.space.suggest(trial)
        run_dir = self.config.run_dir / "trials" / self.study.study_name / str(trial.number)
        return trial, (self.base, self.card, params, self.config.evolve.proxy, run_dir, self.rewards)

    def tell(self, trial: optuna.Trial, params: dict[str, Any], outcome: dict[str, Any] | Exception) -> None:
        if isinstance(outcome, Exception):
            trial.set_user_attr("error", f"{type(outcome).__name__}: {outcome}"[:300])
            self.study.tell(trial, state=TrialState.FAIL)
            return
        for key in ("outer", "seconds", "valid"):
            trial.set_user_attr(key, outcome[key])
        self.study.tell(trial, outcome["inner"])
        if self.progress:
            reward, best = outcome["inner"], self.study.best_value
            print(f"{self.study.study_name} trial {trial.number}: {reward:.4f} (best {best:.4f}) {params}")

    def on_ray(self) -> None:
        """Up to ``evolve.ray_workers`` trials in flight on Ray; this process keeps the one Optuna storage."""
        import ray

        evolve = self.config.evolve
        if evolve.ray_address:
            ray.init(address=evolve.ray_address, ignore_reinit_error=True)
        else:
            ray.init(num_cpus=evolve.ray_workers, include_dashboard=False, ignore_reinit_error=True)
        try:
            self._drive_ray(ray, evolve.ray_workers)
        finally:
            if not evolve.ray_address:
                ray.shutdown()

    def _drive_ray(self, ray: Any, workers: int) -> None:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        pending: dict[Any, tuple[optuna.Trial, dict[str, Any]]] = {}
        while pending or self.remaining(len(pending)) > 0:
            while len(pending) < workers and self.remaining(len(pending)) > 0:
                trial, job = self.ask()
                pending[remote.remote(*job)] = (trial, job[2])
            [ready], _ = ray.wait(list(pending), num_returns=1)
            trial, params = pending.pop(ready)
            try:
                outcome: dict[str, Any] | Exception = ray.get(ready)
            except Exception as err:  # the trial's own error, wrapped by Ray
                outcome = err
            self.tell(trial, params, outcome)
