"""Structured output: JSON schema of an output model, parsing and validation of model answers."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from agenticrec.llm.calls import Message
from agenticrec.llm.prompts import load_prompt

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_MAX_ERROR_CHARS = 1500


class OutputInvalid(ValueError):
    """The answer is not JSON, or not valid for the output model; the message is shown to the model."""


def one_of(values: list[str] | tuple[str, ...]) -> Any:
    """A field type that accepts only `values` (e.g. the descriptors of a vocabulary level).

    Use it in a dynamic output model: `create_model("Pick", label=(one_of(names), ...))`. The JSON schema
    gets an `enum`, so grammar-constrained backends cannot produce anything else, and validation rejects
    anything else from backends that do not constrain.
    """
    if not values:
        raise ValueError("one_of needs at least one allowed value")
    return Literal[tuple(values)]


def schema_for(model: type[BaseModel] | None) -> dict[str, Any] | None:
    """The JSON schema of an output model (None for free text)."""
    return None if model is None else model.model_json_schema()


def _extract_json(text: str) -> Any:
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(stripped):
        try:
            return json.loads(block)
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"[{\[]", stripped)):
        try:
            return decoder.raw_decode(stripped[start:])[0]
        except json.JSONDecodeError:
            continue
    raise OutputInvalid("the answer is not valid JSON")


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]) or "(root)"
        parts.append(f"{loc}: {e['msg']} (got {json.dumps(e.get('input'), default=str)[:80]})")
    return "; ".join(parts)[:_MAX_ERROR_CHARS]


def parse_output(text: str, model: type[BaseModel] | None, *, truncated: bool = False) -> Any:
    """Parse and validate an answer; raise `OutputInvalid` with a message fit to show the model."""
    if model is None:
        return text
    try:
        # a cut-off answer may still contain a complete inner object, which must not pass for the answer
        data = json.loads(text) if truncated else _extract_json(text)
    except (OutputInvalid, json.JSONDecodeError):
        if truncated:
            raise OutputInvalid("the answer was cut off before the JSON was complete; answer more briefly") from None
        raise
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise OutputInvalid(f"the JSON does not match the schema: {_describe(err)}") from None


def with_schema_hint(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    """Add the schema to the system message, for backends that cannot enforce it."""
    hint = load_prompt(__file__, "templates/schema_hint.txt").render(schema=json.dumps(schema))
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{hint}"}, *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def repair_messages(messages: list[Message], answer: str, error: str) -> list[Message]:
    """The conversation re-asked after an invalid answer, with the validation error shown to the model."""
    note = load_prompt(__file__, "templates/repair.txt").render(error=error)
    return [*messages, {"role": "assistant", "content": answer[:2000]}, {"role": "user", "content": note}]
