"""`agenticrec llm pull`: known names only, and a clear offline route when the hub cannot be reached."""

import pytest
from typer.testing import CliRunner

from agenticrec.cli import app
from agenticrec.llm import LLMError
from agenticrec.llm.pull import config_snippet, pull_model


def test_an_unreachable_hub_fails_fast_and_names_the_offline_route(tmp_path):
    with pytest.raises(LLMError, match=r"cannot download .*set llm\.backends\.<name>\.model_path"):
        pull_model("qwen2.5-1.5b-instruct", tmp_path, endpoint="http://127.0.0.1:9")
    assert not any(tmp_path.rglob("*.gguf"))


def test_unknown_names_are_refused_with_the_known_ones(tmp_path):
    result = CliRunner().invoke(app, ["llm", "pull", "gpt-17", "--dest", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown model 'gpt-17'" in result.output and "qwen2.5-1.5b-instruct" in result.output


def test_the_snippet_is_a_valid_llm_section(tmp_path):
    import yaml

    from agenticrec.llm import LLMConfig

    section = yaml.safe_load(config_snippet(tmp_path / "m.gguf"))["llm"]
    config = LLMConfig.model_validate(section)
    assert config.backends["local"].model_path == str(tmp_path / "m.gguf")
