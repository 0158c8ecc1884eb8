"""AgenticRS from Python: ``AgenticRS.from_config(data="amazon-beauty", overrides=["evolve.agent=sasrec",
"evolve.method=bandit", "run_dir=runs/beauty-evolve"]).evolve()``, ``AgenticRS.load(run_dir)`` to resume, and
``.compose({...})`` for compositional evolution; each is the ``agenticrec evolve`` command of the same name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import ConfiguredRun, load_config


class AgenticRS(ConfiguredRun):
    """AgenticRS on one run directory: an agent card's study by ``evolve.method`` (resumable: finished trials are
    kept), its report, and the composition of trained agents under the outer reward."""

    @classmethod
    def load(cls, run_dir: str | Path) -> AgenticRS:
        """An evolve run directory from the config it saved, to resume a killed or finished study."""
        path = Path(run_dir) / "config.yaml"
        if not path.is_file():
            raise AgenticRecError(f"{run_dir} is not an evolve run directory (no config.yaml)")
        return cls(load_config(path, [f"run_dir={run_dir}"]))

    def evolve(self, fresh: bool = False) -> dict[str, Any]:
        """``evolve.trials`` proxy trials of ``evolve.agent`` (a study already there resumes), then the report
        (`evolve run`); ``fresh`` starts the run directory over."""
        from agenticrec.evolve.stage import run_evolution

        return run_evolution(self.config, fresh)

    def report(self) -> dict[str, Any]:
        """Every study's best config and rewards; writes evolve.json and the best-so-far plot (`evolve report`)."""
        from agenticrec.evolve.stage import report

        return report(self.config.run_dir)

    def compose(self, agents: Mapping[str, Path]) -> dict[str, Any]:
        """Fusion, agent selection and routing of ``agents`` (name -> trained or evolve run directory) searched on
        validation by the outer reward, measured on test against each single agent (`evolve compose`)."""
        from agenticrec.evolve.composition import compose_agents

        result = compose_agents(self.config, dict(agents))
        self.report()
        return result
