"""The augment stage's files in a run directory (``RUN_DIR/augment/``)."""

from __future__ import annotations

from agenticrec.run_files import StageFiles

PROPOSALS = "proposals.json"  # every proposal, kept or dropped as a near-duplicate
SIGNAL = "signal.parquet"  # item_id and the signal's column: the kept values (select with data.item_fields)
VALUES = "values.parquet"  # every generated value with its check, kept or dropped
GENERATION = "generation.json"
DIVERSITY = "diversity.json"
DIVERSITY_PLOT = "diversity.png"
RANKER = "ranker.json"  # the LLM ranker and the baselines on the same candidate sets
RANKS = "ranks.parquet"  # the true item's rank per user and method
FILES = StageFiles(
    "augment", first="augment propose", written_by={VALUES: "augment generate", SIGNAL: "augment generate"}
)
augment_dir = FILES.dir
require = FILES.require
read_json = FILES.read_json
