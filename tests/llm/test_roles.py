"""Declared LLM roles: the registry, config validation against it, and `agenticrec llm roles`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from agenticrec.cli.llm import app
from agenticrec.llm import ROLES, LLMConfig, register_role

EXAMPLE = register_role("test_roles_example", "Test role: declared by tests/llm/test_roles.py.")


def test_register_returns_the_name_and_rejects_a_second_meaning():
    assert EXAMPLE == "test_roles_example" and ROLES[EXAMPLE] == "Test role: declared by tests/llm/test_roles.py."
    assert register_role(EXAMPLE, "Test role: declared by tests/llm/test_roles.py.") == EXAMPLE
    with pytest.raises(ValueError, match="already registered"):
        register_role(EXAMPLE, "something else")


def test_stages_register_their_roles():
    assert {"architect", "annotator", "simulated_user"} <= set(ROLES)


def test_config_naming_an_unknown_role_lists_the_known_ones():
    LLMConfig.model_validate({"roles": {EXAMPLE: {"temperature": 0.2}, "architect": {}}})
    with pytest.raises(ValidationError) as err:
        LLMConfig.model_validate({"roles": {"architekt": {"temperature": 0.2}}})
    message = str(err.value)
    assert "unknown role(s) ['architekt']" in message
    for name in ("annotator", "architect", EXAMPLE):
        assert repr(name) in message


def test_llm_roles_prints_every_registered_role():
    result = CliRunner().invoke(app, ["roles"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.output.splitlines()
        if line.startswith("│")
    }
    assert rows == ROLES


def test_a_role_entry_inherits_what_it_does_not_set_from_default() -> None:
    from agenticrec.llm import LLMConfig

    config = LLMConfig.model_validate(
        {
            "backends": {"big": {"kind": "embedded", "model_path": "/models/big.gguf"}},
            "default": {"backend": "big", "choice": "calibrated", "temperature": 0.3},
            "roles": {"judge": {"choice": "score"}, "architect": {"backend": "smollm2"}},
        }
    )
    judge, architect = config.role("judge"), config.role("architect")
    assert (judge.backend, judge.choice, judge.temperature) == ("big", "score", 0.3)
    assert (architect.backend, architect.choice) == ("smollm2", "calibrated")
    assert config.role("annotator") == config.default
