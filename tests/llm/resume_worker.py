"""Run by test_resume.py in a subprocess: one batch against the test server, then a JSON summary line."""

from __future__ import annotations

import json
import sys

from llm_testkit import Echo, http_config

from agenticrec.llm import LLMClient

url, run_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with LLMClient(http_config(url), run_dir) as client:
    results = client.batch("annotator", [f"item {i}" for i in range(n)], Echo, concurrency=4)
print(json.dumps({"ok": sum(r.ok for r in results), "cached": sum(r.cached for r in results)}))
