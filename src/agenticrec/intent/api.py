"""RecGPT from Python: ``RecGPT.from_config(data="amazon-office", overrides=["run_dir=runs/office-intent"])``, then
``.compress()``, ``.mine()``, ``.tags()``, ``.evaluate()``; each step is the ``agenticrec intent``/``explain``/
``judge`` command of the same name, with the same checks of the run directory and the same LLM ledger."""

from __future__ import annotations

from typing import Any

from agenticrec.intent.explanations import Explained
from agenticrec.pipeline import ConfiguredRun


class RecGPT(ConfiguredRun):
    """RecGPT on one run directory: compressed histories, mined interests, predicted or scored tags and their HR@K,
    explanations, and the judge. Every step returns its summary (as written to ``RUN_DIR/intent/``) and resumes
    from the ledger when rerun; ``fresh`` starts the run directory over (the ledger stays)."""

    def compress(self, fresh: bool = False) -> dict[str, Any]:
        """Compress the sampled users' behaviour histories (`intent compress`)."""
        from agenticrec.intent.stage import run_compress

        with self.stage("intent compress", fresh) as run:
            return run_compress(run.dataset, self.config.intent, run.llm, self.config.run_dir, self.config.seed)

    def item_tags(self, fresh: bool = False) -> dict[str, Any]:
        """Tags for every catalogue item, for the tri-tower model's tag tower (`intent item-tags`)."""
        from agenticrec.intent.item_tags import run_item_tags

        with self.stage("intent item-tags", fresh) as run:
            return run_item_tags(run.dataset, self.config.intent, run.llm, self.config.run_dir)

    def mine(self, fresh: bool = False) -> dict[str, Any]:
        """Each sampled user's interests with rationale and evidence (`intent mine`)."""
        from agenticrec.intent.stage import run_mine

        with self.stage("intent mine", fresh) as run:
            return run_mine(run.dataset, self.config.intent, run.llm, self.config.run_dir, self.config.seed)

    def tags(self, fresh: bool = False) -> dict[str, Any]:
        """Tags each user will want next, from their interests (`intent tags`)."""
        from agenticrec.intent.stage import run_tags

        with self.stage("intent tags", fresh) as run:
            return run_tags(run.dataset, self.config.intent, run.llm, self.config.run_dir, self.config.seed)

    def evaluate(self, fresh: bool = False) -> dict[str, Any]:
        """HR@K of the predicted tags beside the category baselines; writes the report (`intent evaluate`)."""
        from agenticrec.intent.report import write_report
        from agenticrec.intent.stage import run_evaluate

        with self.stage("intent evaluate", fresh) as run:
            result = run_evaluate(run.dataset, self.config.intent, self.config.run_dir, self.config.seed)
            write_report(run.dataset, self.config.intent, self.config.run_dir)
        return result

    def score(self, fresh: bool = False) -> dict[str, Any]:
        """The LLM's calibrated log-prob of each of the prior's candidate categories (`intent score`)."""
        from agenticrec.intent.candidates import run_score

        with self.stage("intent score", fresh) as run:
            return run_score(run.dataset, self.config.intent, run.llm, self.config.run_dir, self.config.seed)

    def hybrid(self, fresh: bool = False) -> dict[str, Any]:
        """HR@K of each prior, the LLM score and the hybrid fitted on validation users (`intent hybrid`)."""
        from agenticrec.intent.candidates import run_hybrid

        with self.stage("intent hybrid", fresh) as run:
            return run_hybrid(run.dataset, self.config.intent, self.config.run_dir, self.config.seed)

    def curate(self, users: int = 20, fresh: bool = False) -> dict[str, Any]:
        """Judge-filtered, category-balanced training samples from ``users`` sampled users (`intent curate`)."""
        from agenticrec.intent.judging import run_curate

        cfg = self.config
        with self.stage("intent curate", fresh) as run:
            return run_curate(run.dataset, cfg.intent, cfg.judge, run.llm, cfg.run_dir, cfg.seed, users)

    def explain(self, judge: bool = True, fresh: bool = False) -> dict[str, Any]:
        """The offline (interest, item, explanation) table; with ``judge``, a judged sample (`explain build`)."""
        from agenticrec.intent.explanations import run_explain, run_explain_judge
        from agenticrec.intent.judging import calibrated_judges

        cfg = self.config
        with self.stage("explain build", fresh) as run:
            summary = run_explain(run.dataset, cfg.intent, run.llm, cfg.run_dir, cfg.seed)
            if judge and cfg.intent.explain_judge_pairs:
                calibrated = calibrated_judges(cfg.judge.calibration_run or cfg.run_dir, cfg.seed)
                summary = run_explain_judge(run.dataset, cfg.intent, cfg.judge, run.llm, cfg.run_dir, cfg.seed,
                                            calibrated)  # fmt: skip
        return summary

    def explanation(self, user: str, item: str) -> Explained | None:
        """The explanation of ``item`` for ``user`` from the table, under the user's closest interest (no LLM)."""
        from agenticrec.intent.explanations import ExplanationLookup

        return ExplanationLookup.load(self.config.run_dir).explain(user, item)

    def judge(self, fresh: bool = False) -> dict[str, Any]:
        """The judge on a constructed labelled set; agreement per criterion (`judge run`)."""
        from agenticrec.intent.judging import run_judge

        cfg = self.config
        with self.stage("judge run", fresh) as run:
            return run_judge(run.dataset, cfg.intent, cfg.judge, run.llm, cfg.run_dir, cfg.seed)
