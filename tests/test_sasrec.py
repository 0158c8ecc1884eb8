"""SASRec: causality, padding invariance, learning on a synthetic pattern, and a MovieLens-100k smoke run."""

import json

import numpy as np
import pytest
import torch

from agenticrec.config import EvaluateConfig, TrainConfig
from agenticrec.data.dataset import EvalSet, LeaveOneOutSplit
from agenticrec.errors import AgenticRecError
from agenticrec.evaluate import evaluate_ranking, item_counts
from agenticrec.models.sasrec import SASRec, SASRecConfig
from agenticrec.models.sequences import left_pad
from agenticrec.models.training import train_next_item
from agenticrec.pipeline import evaluate_run, load_config, train_and_evaluate


def small_model(loss="ce", n_items=30, max_len=8):
    torch.manual_seed(0)
    model = SASRec(
        n_items, SASRecConfig(loss=loss, hidden_size=16, num_layers=2, num_heads=2, max_len=max_len, dropout=0.1)
    )
    return model.eval()


def test_outputs_are_causal():
    model = small_model()
    a = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    b = torch.tensor([[0, 0, 3, 4, 5, 9, 10, 11]])
    with torch.no_grad():
        ha, hb = model.encode(a), model.encode(b)
    assert torch.allclose(ha[:, :5], hb[:, :5], atol=1e-5)
    assert not torch.allclose(ha[:, 5:], hb[:, 5:], atol=1e-3)


def test_trimming_left_padding_does_not_change_scores():
    model = small_model()
    histories = [np.array([1, 2, 3]), np.array([4, 5])]
    with torch.no_grad():
        full = model.item_logits(model.encode(left_pad(histories, 8))[:, -1])
        trimmed = model.score(histories)
    assert torch.allclose(full, trimmed, atol=1e-5)


@pytest.mark.parametrize("loss", ["bce", "ce", "sampled_softmax"])
def test_learns_a_deterministic_successor_pattern(loss, tmp_path):
    # every user walks i, i+1, i+2, ...: the next item is always the successor of the last one
    rng = np.random.default_rng(0)
    n_items = 30
    sequences = []
    for _ in range(200):
        start = int(rng.integers(1, n_items - 8))
        sequences.append(np.arange(start, start + int(rng.integers(4, 9)), dtype=np.int64))
    split = LeaveOneOutSplit(sequences)
    counts = item_counts(split.train, n_items)
    model = small_model(loss, n_items)
    before = evaluate_ranking(model.score, split.stage("valid"), counts, ks=[1])["recall@1"]
    summary = train_next_item(
        model,
        split,
        counts,
        TrainConfig(epochs=25, batch_size=32, lr=5e-3, patience=25),
        EvaluateConfig(),
        tmp_path,
        torch.device("cpu"),
    )
    after = evaluate_ranking(model.score, split.stage("test"), counts, ks=[1])["recall@1"]
    assert before < 0.2
    assert after > 0.5  # random ranking gives 1/30
    assert (tmp_path / "checkpoint.pt").is_file()
    assert summary["best_epoch"] >= 1
    assert len((tmp_path / "train_log.jsonl").read_text().splitlines()) == summary["epochs_run"]


def test_one_epoch_on_movielens_then_reevaluate(tmp_path):
    config = load_config(
        None,
        [
            "data.name=movielens-100k",
            "model.loss=ce",
            "model.max_len=50",
            "train.epochs=1",
            f"run_dir={tmp_path / 'run'}",
        ],
    )
    result = train_and_evaluate(config)
    run = tmp_path / "run"
    assert {"config.yaml", "checkpoint.pt", "metrics.json", "train_log.jsonl"} <= {p.name for p in run.iterdir()}
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["protocol"]["ranking"].startswith("full ranking")
    assert saved["test"]["users"] == 943
    assert 0.0 <= result["test"]["ndcg@10"] <= result["test"]["recall@10"] <= 1.0
    again = evaluate_run(run, "test")
    assert again["test"]["ndcg@10"] == pytest.approx(result["test"]["ndcg@10"], abs=1e-9)
    masked = evaluate_run(run, "test", mask_history=True)
    assert saved["test_history_masked"] == pytest.approx(masked["test"], abs=1e-9)


def test_semantic_id_features_add_token_embeddings_to_the_item_table():
    torch.manual_seed(0)
    config = SASRecConfig(hidden_size=8, num_layers=1, num_heads=1, max_len=4)
    # items 1 and 2 share token 3; item 3 has tokens 4 and 5; padding has none
    model = SASRec(3, config, feature_tokens=[[], [3], [3], [4, 5]])
    table = model.item_table()
    ids, tokens = model.item_embedding.weight, model.features.weight
    assert torch.allclose(table[0], ids[0])
    assert torch.allclose(table[1], ids[1] + tokens[3])
    assert torch.allclose(table[2], ids[2] + tokens[3])
    assert torch.allclose(table[3], ids[3] + tokens[4] + tokens[5])
    plain = SASRec(3, config)
    assert plain.item_table() is plain.item_embedding.weight


@pytest.mark.slow
def test_movielens_sasrec_with_genre_features_trains_and_reloads(tmp_path):
    config = load_config(
        None,
        [
            "data.name=movielens-100k",
            "model.loss=ce",
            "model.semantic_id_features=true",
            "semantic_ids.method=categories",
            "semantic_ids.category_field=genres",
            "train.epochs=1",
            f"run_dir={tmp_path}",
        ],
    )
    result = train_and_evaluate(config)
    assert result["protocol"]["semantic_ids"] == "categories"
    assert (tmp_path / "semantic_ids" / "categories.parquet").is_file()
    again = evaluate_run(tmp_path, "test")
    assert again["test"]["ndcg@10"] == pytest.approx(result["test"]["ndcg@10"])


def test_time_budget_stops_mid_epoch_and_keeps_a_validated_checkpoint(tmp_path):
    sequences = [np.arange(1, 9, dtype=np.int64) for _ in range(64)]
    split = LeaveOneOutSplit(sequences)
    counts = item_counts(split.train, 10)
    summary = train_next_item(
        small_model(n_items=10),
        split,
        counts,
        TrainConfig(epochs=50, batch_size=8, max_minutes=1e-9),
        EvaluateConfig(),
        tmp_path,
        torch.device("cpu"),
    )
    assert summary["stopped_by"] == "time budget"
    assert summary["epochs_run"] == 1 and summary["best_epoch"] == 1
    assert (tmp_path / "checkpoint.pt").is_file()
    assert len((tmp_path / "train_log.jsonl").read_text().splitlines()) == 1


def test_bce_negatives_avoid_the_users_own_items():
    torch.manual_seed(0)
    model = small_model("bce", n_items=40)
    inputs = torch.tensor([[0, 0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10]])
    targets = torch.tensor([[0, 0, 2, 3, 4, 11], [6, 7, 8, 9, 10, 12]])
    for _ in range(50):
        negatives = model.sample_negatives(inputs, targets)
        assert negatives.shape == targets.shape
        assert ((negatives >= 1) & (negatives <= 40)).all()
        for row in range(2):
            assert not set(negatives[row].tolist()) & set(torch.cat([inputs[row], targets[row]]).tolist())


@pytest.mark.parametrize("per", ["position", "sequence"])
def test_sampled_softmax_leaves_out_negatives_that_are_the_target(per):
    # one-item catalogue: every negative is the target, so only the target's own logit is left and the loss is 0
    model = small_model("sampled_softmax", n_items=1)
    model.config.negatives_per = per
    inputs, targets = torch.tensor([[0, 1, 1]]), torch.tensor([[1, 1, 1]])
    assert model.loss(inputs, targets).item() == pytest.approx(0.0, abs=1e-6)


def test_refit_trains_on_the_validation_items_for_the_best_epoch_count(tmp_path):
    # group A walks successors over items 1..20, so validation improves and picks an epoch count; group B always
    # goes 21, 22 -> 29 (validation) -> 30 (test): only a refit model has seen anything lead to item 29
    rng = np.random.default_rng(0)
    walks = [np.arange(s, s + int(rng.integers(4, 9)), dtype=np.int64) for s in rng.integers(1, 13, size=150)]
    split = LeaveOneOutSplit([*walks, *[np.array([21, 22, 29, 30])] * 50])
    counts = item_counts(split.train, 30)
    valid = split.stage("valid")
    b_valid = EvalSet(valid.histories[150:], valid.targets[150:])

    def recall_of_29(model):
        return evaluate_ranking(model.score, b_valid, counts, ks=[1])["recall@1"]

    runs = {}
    for refit in (False, True):
        model = small_model("ce", n_items=30)
        (tmp_path / str(refit)).mkdir()
        summary = train_next_item(
            model,
            split,
            counts,
            TrainConfig(epochs=12, batch_size=32, lr=5e-3, patience=12, refit=refit),
            EvaluateConfig(),
            tmp_path / str(refit),
            torch.device("cpu"),
        )
        runs[refit] = (summary, recall_of_29(model))
    (once, once_recall), (refit, refit_recall) = runs[False], runs[True]
    assert "refit" not in once and once_recall < 0.1
    assert refit_recall > 0.9
    assert refit["refit"]["epochs"] == refit["best_epoch"] == once["best_epoch"]
    log = [json.loads(line) for line in (tmp_path / "True" / "train_log.jsonl").read_text().splitlines()]
    assert [entry["refit_epoch"] for entry in log if "refit_epoch" in entry] == list(range(1, refit["best_epoch"] + 1))


def test_a_refit_run_reports_no_validation_metrics(tmp_path):
    config = load_config(
        None,
        [
            "data.name=movielens-100k",
            "model.loss=ce",
            "model.max_len=50",
            "train.epochs=1",
            "train.refit=true",
            f"run_dir={tmp_path}",
        ],
    )
    result = train_and_evaluate(config)
    assert "valid" not in result and result["protocol"]["refit"]
    assert result["train"]["refit"]["epochs"] == 1
    with pytest.raises(AgenticRecError, match="refit"):
        evaluate_run(tmp_path, "valid")
    assert evaluate_run(tmp_path, "test")["test"]["ndcg@10"] == pytest.approx(result["test"]["ndcg@10"], abs=1e-9)
