"""The intent stage's files in a run directory (``RUN_DIR/intent/``) and how they are read back."""

from __future__ import annotations

from agenticrec.run_files import StageFiles

HISTORIES = "histories.parquet"  # sampled users: target, token counts, the compressed lines the prompts show
COMPRESSION = "compression.json"
INTERESTS = "interests.parquet"  # user, rank, name, rationale, evidence (item ids), repaired
MINING = "mining.json"
TAGS = "tags.parquet"  # user, rank, tag
TAGGING = "tags.json"
EVALUATION = "evaluation.json"  # HR@K of the LLM tags and the baselines
REPORT = "report.html"
EXPLANATIONS = "explanations.parquet"  # interest, item, explanation, checks, and the vectors the lookup uses
EXPLAINING = "explanations.json"
ITEM_TAGS = "item_tags.parquet"  # item_id, tags, source (llm, or category where the LLM gave none): TAR's tags
ITEM_TAGGING = "item_tags.json"
CANDIDATE_SCORES = "candidate_scores.parquet"  # cutoff, user, candidate, logprob, content_free
SCORING = "scoring.json"
PREDICTED_CATEGORIES = "predicted_categories.parquet"  # hybrid, held_out, user, user_index, rank, category
HYBRID = "hybrid.json"  # HR@K of each prior, the LLM score and the hybrids fitted on validation
SIMULATED_PLOT = "simulated_curve.png"  # the hybrid's HR@K against a simulated LLM's accuracy
CURATED = "curated.jsonl"  # judge-filtered (history, tag, interest, rationale) training samples

FILES = StageFiles(
    "intent",
    first="intent compress",
    written_by={
        INTERESTS: "intent mine",
        TAGS: "intent tags",
        EXPLANATIONS: "explain build",
        ITEM_TAGS: "intent item-tags",
        CANDIDATE_SCORES: "intent score",
    },
)
intent_dir = FILES.dir
require = FILES.require
read_json = FILES.read_json
read_table = FILES.read_table
write_table = FILES.write_table
