"""Config: defaults, YAML files, command-line overrides and clear validation errors."""

from pathlib import Path

import pytest
import yaml

from agenticrec.config import save_config
from agenticrec.data import DATASETS
from agenticrec.errors import ConfigError
from agenticrec.models.popularity import PopularityConfig
from agenticrec.models.sasrec import SASRecConfig
from agenticrec.pipeline import load_config


def test_defaults_are_valid_and_model_defaults_to_sasrec():
    config = load_config()
    assert isinstance(config.model, SASRecConfig)
    assert config.evaluate.mask_history is False


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("data: {name: amazon-beauty}\nmodel: {loss: bce, hidden_size: 32}\ntrain: {epochs: 7}\n")
    config = load_config(path, ["train.epochs=9", "model.dropout=0.25"])
    assert config.data.name == "amazon-beauty"
    assert config.model.loss == "bce" and config.model.hidden_size == 32 and config.model.dropout == 0.25
    assert config.train.epochs == 9


def test_model_switch_by_override():
    assert isinstance(load_config(None, ["model.name=popularity"]).model, PopularityConfig)


def test_embedded_default_takes_another_gguf_by_override(tmp_path):
    """`--set llm.backends.smollm2.model_path=...` (a fine-tuned SmolLM2) keeps smollm2 the embedded backend."""
    gguf = tmp_path / "tuned.gguf"
    llm = load_config(None, [f"llm.backends.smollm2.model_path={gguf}", "llm.backends.smollm2.n_threads=1"]).llm
    backend = llm.backends["smollm2"]
    assert backend.kind == "embedded" and backend.model_path == str(gguf) and backend.n_threads == 1
    with pytest.raises(ConfigError, match="smollm2"):
        load_config(None, ["llm.backends.smollm2.kind=nonsense"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model.loss=softmax"], "model"),
        (["train.epochs=0"], "train.epochs"),
        (["train.epohcs=3"], "train.epohcs"),
        (["nonsense"], "key.path=value"),
        (["model.name=bert4rec"], "model"),
    ],
)
def test_invalid_config_names_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(listy)


def test_resolved_config_round_trips(tmp_path):
    config = load_config(None, ["model.loss=bce", f"run_dir={tmp_path}"])
    path = save_config(config, tmp_path)
    assert yaml.safe_load(path.read_text())["model"]["loss"] == "bce"
    assert load_config(path) == config


def test_tagger_settings_are_validated():
    with pytest.raises(ConfigError, match="branching > 1 needs annotate_items_per_call = 1"):
        load_config(None, ["tagger.build.branching=2", "tagger.build.annotate_items_per_call=4"])
    with pytest.raises(ConfigError, match=r"tagger\.assign\.method"):
        load_config(None, ["tagger.assign.method=magic"])
    assert load_config(None, ["tagger.build.max_depth=2"]).tagger.build.max_depth == 2


SHIPPED_CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda path: path.name)
def test_shipped_configs_validate_and_name_a_registered_dataset(path):
    config = load_config(path)
    assert config.data.name in DATASETS
    assert config.run_dir.name == path.stem  # runs/tagger-<dataset>, where the benchmarks look for it


def test_layers_presets_then_file_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  dropout: 0.3\ntrain:\n  patience: 7\n")
    config = load_config(path, ["train.patience=9"], data="amazon-beauty", model="sasrec-ss")
    assert config.data.name == "amazon-beauty"
    assert (config.model.name, config.model.loss, config.model.num_layers) == ("sasrec", "sampled_softmax", 1)
    assert config.model.dropout == 0.3  # the file beats the model preset
    assert config.train.patience == 9  # --set beats the file, which beat the preset's 20


def test_errors_name_the_key_as_written_and_where_it_came_from(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  epochs: 0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, ["model.los=bce", "bogus_key=1"], model="sasrec-ce")
    message = str(caught.value)
    assert "model.los: Extra inputs are not permitted (from --set model.los=bce)" in message
    assert "bogus_key: Extra inputs are not permitted (from --set bogus_key=1)" in message
    assert f"train.epochs: Input should be greater than 0 (from {path})" in message


def test_unknown_preset_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match=r"unknown models preset 'sasrec-xx'; shipped: .*sasrec-ce"):
        load_config(model="sasrec-xx")


def test_every_model_preset_names_a_registered_model():
    from agenticrec.config import preset_names
    from agenticrec.models import MODELS

    for name in preset_names("models"):
        assert load_config(model=name).model.name in MODELS


def test_unknown_keys_name_their_source_and_the_closest_valid_key(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("trian: {epochs: 2}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, ["model.los=bce", "tagger.buld.max_depth=2"])
    message = str(caught.value)
    assert f"trian: Extra inputs are not permitted (from {path}); did you mean train?" in message
    assert "model.los: Extra inputs are not permitted (from --set model.los=bce); did you mean model.loss?" in message
    assert "did you mean tagger.build?" in message
    with pytest.raises(ConfigError) as caught:
        load_config(None, ["model.name=popularity", "model.los=bce"])
    assert "did you mean" not in str(caught.value)  # popularity has no loss to suggest


def test_every_llm_preset_looks_for_its_gguf_in_the_model_dir(tmp_path, monkeypatch):
    from agenticrec.config import preset_names
    from agenticrec.llm.backends.embedded import EmbeddedBackend, expand_path
    from agenticrec.llm.errors import LLMError

    monkeypatch.setenv("AGENTICREC_MODEL_DIR", str(tmp_path))
    for name in preset_names("llm"):
        llm = load_config(llm=name).llm
        backend = llm.backends[llm.default.backend]
        assert expand_path(backend.model_path).parent == tmp_path
        with pytest.raises(LLMError, match=f"model file not found: {tmp_path}"):  # not built or fetched yet
            EmbeddedBackend(llm.default.backend, backend)
