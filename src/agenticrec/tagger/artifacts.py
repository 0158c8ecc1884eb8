"""Where the tagger's artifacts live inside a run directory, and how they are read back."""

from __future__ import annotations

from agenticrec.run_files import StageFiles

VOCABULARY = "vocabulary.json"
BUILD_LOG = "build_log.jsonl"  # every split, initial proposal, cycle, change proposal and decision
BUILD_SUMMARY = "build_summary.json"
BUILD_MEMBERS = "build_members.json"  # descriptor id -> ids of the items annotated into it while building
ASSIGNMENTS = (
    "assignments.parquet"  # item_id, item_index, descriptor_ids, descriptor_names, sources, resolver, semantic_id
)
ASSIGN_SUMMARY = "assign_summary.json"
KEYWORDS = "keywords.parquet"  # item_id, keywords
KEYWORDS_SUMMARY = "keywords_summary.json"
AUDIT_SUMMARY = "audit.json"  # the LLM judge's precision and recall of "fits"
REPORT = "report.html"


FILES = StageFiles("tagger", first="tag build", written_by={ASSIGNMENTS: "tag assign", ASSIGN_SUMMARY: "tag assign",
                   KEYWORDS: "tag keywords", AUDIT_SUMMARY: "tag audit"})  # fmt: skip
tagger_dir = FILES.dir
read_json = FILES.read_json
read_build_log = FILES.read_jsonl
read_assignments = FILES.read_table
