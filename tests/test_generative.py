"""Generative retrieval: learns a sequential pattern, trains and evaluates end to end on MovieLens-100k."""

import json

import numpy as np
import pytest
import torch

from agenticrec.config import EvaluateConfig, TrainConfig
from agenticrec.data.dataset import LeaveOneOutSplit
from agenticrec.evaluate import evaluate_ranking, item_counts
from agenticrec.models.generative import GenerativeConfig, GenerativeRetrieval
from agenticrec.models.sequences import next_item_examples
from agenticrec.models.training import train_next_item
from agenticrec.pipeline import evaluate_run, load_config, train_and_evaluate
from agenticrec.semantic_ids.codes import SemanticIDs
from agenticrec.semantic_ids.tokenizer import SemanticIDTokenizer


def test_training_examples_cover_every_next_item_and_never_the_held_out_ones():
    split = LeaveOneOutSplit([np.array([1, 2, 3, 4, 5]), np.array([6, 7, 8])])
    histories, targets = next_item_examples(split.train, max_items=2)
    assert targets.tolist() == [2, 3]  # user 1 trains on 1, 2, 3; user 2 on 6 only (nothing to predict)
    assert histories.tolist() == [[0, 1], [1, 2]]
    _, recent = next_item_examples(split.train, max_items=2, per_user=1)
    assert recent.tolist() == [3]  # only user 1's most recent example


def test_learns_a_deterministic_successor_pattern(tmp_path):
    rng = np.random.default_rng(0)
    n_items = 24
    sequences = []
    for _ in range(150):
        start = int(rng.integers(1, n_items - 7))
        sequences.append(np.arange(start, start + int(rng.integers(4, 8)), dtype=np.int64))
    split = LeaveOneOutSplit(sequences)
    counts = item_counts(split.train, n_items)
    # two-level IDs: items share first tokens in groups of four
    ids = SemanticIDs.from_paths("toy", [(f"g{(i - 1) // 4}", f"m{(i - 1) % 4}") for i in range(1, n_items + 1)])
    torch.manual_seed(0)
    config = GenerativeConfig(num_layers=2, d_model=32, d_ff=64, num_heads=2, d_kv=16, dropout=0.0, max_items=5, beam=5)
    model = GenerativeRetrieval(SemanticIDTokenizer(ids), config)
    train_next_item(
        model,
        split,
        counts,
        TrainConfig(epochs=40, batch_size=32, lr=5e-3, patience=40),
        EvaluateConfig(),
        tmp_path,
        torch.device("cpu"),
    )
    after = evaluate_ranking(model.score, split.stage("test"), counts, ks=[1])["recall@1"]
    assert after > 0.6  # random guessing gives 1/24
    assert (tmp_path / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_movielens_generative_train_and_evaluate_from_checkpoint(tmp_path):
    config = load_config(
        None,
        [
            "data.name=movielens-100k",
            "model.name=generative",
            "model.num_layers=1",
            "model.d_model=32",
            "model.d_ff=64",
            "model.num_heads=2",
            "model.d_kv=16",
            "model.max_items=5",
            "model.beam=10",
            "semantic_ids.method=rkmeans",
            "semantic_ids.codes=16",
            "semantic_ids.levels=2",
            "train.epochs=1",
            f"run_dir={tmp_path}",
        ],
    )
    result = train_and_evaluate(config)
    assert result["test"]["users"] == 943
    assert result["protocol"]["semantic_ids"] == "rkmeans"
    assert "beam 10" in result["protocol"]["decoding"]
    assert result["train"]["semantic_ids"]["items"] == 1682
    assert 0.0 <= result["test"]["ndcg@10"] <= 1.0
    again = evaluate_run(tmp_path, "test")
    assert again["test"]["ndcg@10"] == pytest.approx(result["test"]["ndcg@10"])
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["test"]["recall@10"] == pytest.approx(result["test"]["recall@10"])
