"""LaMAR from Python: ``LaMAR.from_config(data="amazon-scientific", llm="qwen-1.5b", overrides=["run_dir=runs/sci"])``,
then ``.propose()``, ``.generate()``, ``.diversity()``; ``.signal`` is the table to add with ``data.item_fields``.
Each step is the ``agenticrec augment`` command of the same name, with the same checks and LLM ledger."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agenticrec.augment import artifacts
from agenticrec.pipeline import ConfiguredRun


class LaMAR(ConfiguredRun):
    """LaMAR on one run directory: an LLM-proposed item attribute, its value for every item (resumable from the
    ledger), its diversity, and the LLM ranker; ``fresh`` starts the run directory over (the ledger stays)."""

    def propose(self, fresh: bool = False) -> dict[str, Any]:
        """``augment.proposals`` new attributes for the domain, near-duplicates dropped (`augment propose`)."""
        from agenticrec.augment.propose import run_propose

        with self.stage("augment propose", fresh) as run:
            return run_propose(run.dataset, self.config.augment, run.llm, self.config.run_dir, self.config.seed)

    def generate(self, fresh: bool = False) -> dict[str, Any]:
        """The kept proposal's value for every item, inconsistent values dropped (`augment generate`)."""
        from agenticrec.augment.generate import run_generate

        with self.stage("augment generate", fresh) as run:
            return run_generate(run.dataset, self.config.augment, run.llm, self.config.run_dir, self.config.seed)

    def diversity(self, fresh: bool = False) -> dict[str, Any]:
        """How alike the values are, crowded items, redundancy with title and category (`augment diversity`)."""
        from agenticrec.augment.diversity import run_diversity

        with self.stage("augment diversity", fresh) as run:
            return run_diversity(run.dataset, self.config.augment, self.config.run_dir)

    def rank(self, baselines: Mapping[str, Path] | None = None, fresh: bool = False) -> dict[str, Any]:
        """The LLM ranker on 20 random items + the next one per test user, beside random, popularity and each
        ``baselines`` run (name -> trained run directory) on the same candidates (`augment rank-llm`)."""
        from agenticrec.augment.ranker import run_rank_llm

        cfg = self.config
        with self.stage("augment rank-llm", fresh) as run:
            return run_rank_llm(run.dataset, cfg.augment.ranker, run.llm, cfg.run_dir, cfg.seed, dict(baselines or {}))

    @property
    def signal(self) -> Path:
        """The signal table (item_id and the attribute's kept value) once `generate` has run."""
        return artifacts.require(self.config.run_dir, artifacts.SIGNAL)
