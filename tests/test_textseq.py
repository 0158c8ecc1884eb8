"""The text-based sequential recommender: the whitening adapter, learning a successor pattern over frozen text
vectors, and a run through the pipeline on items embedded by the packaged MiniLM."""

import numpy as np
import pytest
import torch

from agenticrec.config import EvaluateConfig, TrainConfig
from agenticrec.data.dataset import LeaveOneOutSplit
from agenticrec.errors import ConfigError
from agenticrec.evaluate import evaluate_ranking, item_counts
from agenticrec.models.textseq import MoEAdapter, TextSeq, TextSeqConfig, Whitening
from agenticrec.models.training import load_matching_weights, train_next_item
from agenticrec.pipeline import evaluate_run, load_config, load_run, train_and_evaluate
from agenticrec.testing.catalogues import successor_shop


def test_whitening_centres_then_projects():
    layer = Whitening(3, 2)
    with torch.no_grad():
        layer.centre.copy_(torch.tensor([1.0, 2.0, 3.0]))
        layer.projection.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
    out = layer(torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 3.0]]))
    assert torch.allclose(out, torch.tensor([[0.0, 0.0], [1.0, 2.0]]))


def test_adapter_maps_text_vectors_to_the_hidden_size_as_a_gated_mix():
    torch.manual_seed(0)
    adapter = MoEAdapter(384, 16, experts=4, dropout=0.0).eval()
    x = torch.randn(5, 384)
    out = adapter(x)
    assert out.shape == (5, 16)
    # a zero gate weighs the experts equally: the output is their mean
    assert torch.allclose(out, torch.stack([e(x) for e in adapter.experts]).mean(0), atol=1e-6)


def successor_walks(n_items: int = 30, users: int = 200) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        np.arange(start, start + int(rng.integers(4, 9)), dtype=np.int64)
        for start in rng.integers(1, n_items - 8, size=users)
    ]


def test_learns_a_successor_pattern_over_text_vectors(tmp_path):
    torch.manual_seed(0)
    n_items = 30
    vectors = np.random.default_rng(1).normal(size=(n_items, 32)).astype(np.float32)
    config = TextSeqConfig(hidden_size=16, num_layers=1, num_heads=1, max_len=8, dropout=0.1, experts=2)
    model = TextSeq(n_items, config, vectors)
    split = LeaveOneOutSplit(successor_walks(n_items))
    counts = item_counts(split.train, n_items)
    train = TrainConfig(epochs=30, batch_size=32, lr=5e-3, patience=30)
    train_next_item(model, split, counts, train, EvaluateConfig(), tmp_path, torch.device("cpu"))
    assert evaluate_ranking(model.score, split.stage("test"), counts, ks=[1])["recall@1"] > 0.5  # random: 1/30


def test_trains_through_the_pipeline_on_embedded_item_text(tmp_path):
    names = ["kettle", "teapot", "mug", "spoon", "tray", "saucer", "whisk", "ladle"]
    config = load_config(
        None,
        [
            *successor_shop(tmp_path, [f"a {n}" for n in names], users=40, steps=5),
            f"run_dir={tmp_path / 'run'}",
            "model.name=textseq",
            "model.hidden_size=16",
            "model.num_layers=1",
            "model.num_heads=1",
            "train.epochs=2",
        ],
    )
    results = train_and_evaluate(config)
    assert results["protocol"]["model"] == "textseq" and results["test"]["users"] == 40
    assert list((tmp_path / "run" / "cache").glob("embeddings-*.npy"))  # the text is embedded once, then reused
    assert isinstance(load_run(tmp_path / "run").model, TextSeq)
    # the checkpoint and the cached text embeddings reproduce the run's test figures
    assert evaluate_run(tmp_path / "run")["test"]["ndcg@10"] == pytest.approx(results["test"]["ndcg@10"])


def test_initialises_from_a_model_trained_on_another_catalogue():
    vectors = np.random.default_rng(1).normal(size=(30, 32)).astype(np.float32)
    config = TextSeqConfig(hidden_size=16, num_layers=1, num_heads=1, max_len=8, experts=2)
    source, target = TextSeq(30, config, vectors), TextSeq(12, config, vectors[:12])
    names = load_matching_weights(target, source.state_dict())
    # everything but the table over the catalogue (item ids) comes from the source
    assert names["kept"] == ["item_embedding.weight"]
    assert torch.equal(target.adapter.experts[0].projection.weight, source.adapter.experts[0].projection.weight)
    assert not torch.equal(target.item_embedding.weight, source.item_embedding.weight[:13])
    wider = TextSeq(12, config.model_copy(update={"hidden_size": 8}), vectors[:12])
    with pytest.raises(ConfigError, match="same model settings"):
        load_matching_weights(wider, source.state_dict())


def test_fine_tunes_a_run_pre_trained_on_another_shop(tmp_path):
    def settings(shop: str, names: list[str]) -> list[str]:
        (tmp_path / shop).mkdir()
        titles = [f"a {n}" for n in names]
        return [*successor_shop(tmp_path / shop, titles, users=30, steps=5), "model.name=textseq",
                "model.hidden_size=16", "model.num_layers=1", "model.num_heads=1", "train.epochs=2"]  # fmt: skip

    source = tmp_path / "kitchen-run"
    train_and_evaluate(
        load_config(None, [*settings("kitchen", ["kettle", "teapot", "mug", "spoon"]), f"run_dir={source}"])
    )
    garden = settings("garden", ["spade", "rake", "hoe", "pot", "hose", "seed"])
    results = train_and_evaluate(
        load_config(None, [*garden, f"run_dir={tmp_path / 'garden-run'}", f"train.init_from={source}"])
    )
    assert results["protocol"]["initialised_from"] == str(source)
    assert results["train"]["initialised_from"]["kept_initial"] == ["item_embedding.weight"]
    with pytest.raises(ConfigError, match="not a finished run"):
        train_and_evaluate(load_config(None, [*garden, f"run_dir={tmp_path / 'x'}", f"train.init_from={tmp_path}"]))
