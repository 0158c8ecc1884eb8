"""A scripted-LLM callable referenced by import path from a config in the tests."""

from __future__ import annotations

import json


def answer_ok(messages, schema):
    return json.dumps({"echo": messages[-1]["content"], "label": "odd"})
