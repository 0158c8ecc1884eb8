"""TAR (RecGPT's tri-tower retrieval): tags from categories, each loss on hand-made batches, beta fusion and its
validation sweep, and learning a category-following pattern end to end through the pipeline."""

import numpy as np
import pandas as pd
import pytest
import torch

from agenticrec.config import EvaluateConfig
from agenticrec.data.dataset import Dataset, EvalSet
from agenticrec.evaluate import item_counts
from agenticrec.models import ModelInputs
from agenticrec.models.tar import TAR, TARConfig
from agenticrec.models.tar.model import sampled_softmax
from agenticrec.models.tar.tags import TagTable, category_tags
from agenticrec.pipeline import load_config, load_run, train_and_evaluate
from agenticrec.testing.catalogues import files_catalogue

CATEGORIES = ["Shop > Tea > Green", "Shop > Tea > Black", "Shop > Coffee > Beans"]


def catalogue(per_category: int = 8) -> pd.DataFrame:
    rows = []
    for c, path in enumerate(CATEGORIES):
        for k in range(per_category):
            item = c * per_category + k + 1
            rows.append({"item_id": f"i{item}", "title": f"item {item}", "categories": path, "brand": f"b{k % 3}"})
    return pd.DataFrame(rows)


def category_walks(users: int = 240, per_category: int = 8, seed: int = 0) -> list[np.ndarray]:
    """Each user buys 5-8 random items of one category: the next item's category is the last item's."""
    rng = np.random.default_rng(seed)
    sequences = []
    for _ in range(users):
        c = int(rng.integers(len(CATEGORIES)))
        length = int(rng.integers(5, 9))
        sequences.append(c * per_category + rng.choice(per_category, size=length, replace=False) + 1)
    return sequences


def dataset() -> Dataset:
    sequences = category_walks()
    return Dataset(
        name="tea-shop",
        items=catalogue(),
        user_ids=[f"u{u}" for u in range(len(sequences))],
        sequences=sequences,
        text_fields=["title"],
        category_field="categories",
        brand_field="brand",
    )


def small_tar(**settings) -> TAR:
    torch.manual_seed(0)
    data = dataset()
    config = TARConfig(hidden_size=16, mlp_size=32, negatives=16, dropout=0.0, **settings)
    counts = item_counts(data.split().train, data.n_items)
    return TAR.create(config, ModelInputs(data.n_items, counts, dataset=data)).eval()


def test_category_tags_are_the_levels_below_the_root():
    tags = category_tags(dataset())
    assert tags[0] == ["Tea", "Green"] and tags[-1] == ["Coffee", "Beans"]
    table = TagTable.build(tags)
    assert table.phrases == ["Tea", "Green", "Black", "Coffee", "Beans"]
    assert table.of_item(0) == [] and table.of_item(1) == [0, 1] and table.of_item(9) == [0, 2]
    # most recent item's tags first, each phrase once
    assert table.user_phrases([np.array([1, 9])], last=2) == [[0, 2, 1]]
    assert table.user_phrases([np.array([1, 9])], last=1) == [[0, 2]]


def test_sampled_softmax_ignores_excluded_negatives():
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[0.6, 0.8]])
    negatives = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    excluded = torch.tensor([[True, False]])
    loss = sampled_softmax(anchor, positive, negatives, excluded, temperature=1.0)
    expected = -torch.log_softmax(torch.tensor([0.6, 0.0]), 0)[0]  # the excluded negative would dominate
    assert torch.isclose(loss, expected)


def test_log_q_subtracts_each_candidates_log_sampling_probability():
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[0.6, 0.8]])
    negatives = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    excluded = torch.tensor([[False, False]])
    log_q = (torch.log(torch.tensor([0.1])), torch.log(torch.tensor([0.5, 0.2])))
    loss = sampled_softmax(anchor, positive, negatives, excluded, temperature=0.5, log_q=log_q)
    logits = torch.tensor([0.6 / 0.5 - np.log(0.1), 1.0 / 0.5 - np.log(0.5), 0.0 / 0.5 - np.log(0.2)])
    assert torch.isclose(loss, -torch.log_softmax(logits.float(), 0)[0])


def test_popularity_negatives_follow_training_counts_and_carry_the_correction():
    model = small_tar(negative_sampling="popularity")
    counts = item_counts(dataset().split().train, dataset().n_items)
    expected = (counts + 1.0) / (counts + 1.0)[1:].sum()
    assert model.sampling[0] == 0 and torch.allclose(model.sampling[1:], torch.as_tensor(expected[1:]).float())
    targets, negatives = torch.tensor([1, 2]), torch.tensor([3, 4, 5])
    positive_q, negative_q = model.log_q(targets, negatives)
    assert torch.allclose(negative_q.exp(), model.sampling[negatives]) and positive_q.shape == (2,)
    assert small_tar(negative_sampling="popularity", logq=False).log_q(targets, negatives) is None
    assert small_tar(negative_sampling="uniform").log_q(targets, negatives) is None  # a constant, left out
    torch.manual_seed(0)
    drawn = torch.multinomial(model.sampling, 20000, replacement=True).bincount(minlength=len(counts)).numpy()
    assert drawn[0] == 0 and np.corrcoef(drawn[1:], counts[1:] + 1)[0, 1] > 0.9


def test_a_step_on_the_collaborative_loss_raises_the_next_item_above_the_negatives():
    model = small_tar().train()
    history, target = torch.tensor([[0, 1, 2, 3]]), torch.tensor([4])
    negatives = torch.arange(9, 25)

    def margin() -> float:
        """The next item's similarity to the user, above the negatives' mean."""
        items = model.item_vectors()
        similarity = items @ model.user_vectors(history, items)[0]
        return (similarity[4] - similarity[negatives].mean()).item()

    before = margin()
    step(model, model.collaborative_loss(history, target, model.item_vectors(), negatives))
    assert margin() > before


def test_a_step_on_the_tag_loss_raises_the_tagged_item_above_the_negatives():
    model = small_tar().train()
    green, target, negatives = 1, torch.tensor([4]), torch.arange(9, 25)

    def margin() -> float:
        similarity = model.item_vectors() @ model.tag_vectors()[green]
        return (similarity[4] - similarity[negatives].mean()).item()

    before = margin()
    step(model, model.tag_loss(model.tag_vectors()[[green]], target, model.item_vectors(), negatives))
    assert margin() > before


def test_steps_on_the_category_loss_pull_the_tag_towards_its_category():
    model = small_tar().train()
    green, targets, negatives = 1, torch.tensor([4, 5, 6]), torch.arange(1, 25)
    same = model.item_category == model.item_category[4]

    def margin() -> float:
        items = model.item_vectors()[1:]
        similarity = items @ model.tag_vectors()[green]
        return (similarity[same[1:]].mean() - similarity[~same[1:]].mean()).item()

    before = margin()
    for _ in range(5):
        anchors = model.tag_vectors()[[green] * 3]
        step(model, model.category_loss(anchors, targets, model.item_vectors(), negatives))
    assert margin() > before


def step(model: TAR, loss: torch.Tensor) -> None:
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def test_category_positives_share_the_category():
    model = small_tar()
    categories = torch.tensor([1, 2, 3] * 50)
    drawn = model.same_category(categories)
    assert torch.equal(model.item_category[drawn], categories)
    assert len(set(drawn[categories == 1].tolist())) > 4  # drawn across the category, not one item


def test_beta_one_is_the_two_tower_score():
    model = small_tar()
    histories = [np.array([1, 2, 3]), np.array([20, 21])]
    collaborative, semantic = model.component_scores(histories)
    assert torch.allclose(model.fused_scores(histories, 1.0), collaborative)
    assert torch.allclose(model.fused_scores(histories, 0.0), semantic)
    items = model.item_vectors()
    users = model.user_vectors(torch.tensor([[1, 2, 3], [0, 20, 21]]), items)
    assert torch.allclose(collaborative, users @ items.T / model.config.temperature, atol=1e-5)


def test_a_users_own_tags_replace_those_of_their_last_items():
    model = small_tar()
    histories = [np.array([1, 2, 3]), np.array([20, 21])]  # a green-tea user and a coffee user
    _, from_history = model.component_scores(histories)
    # the same phrases given as text score the same; words the tag tower never saw leave the history's tags
    _, given = model.component_scores(histories, [["green", "tea"], ["no such words"]])
    assert torch.allclose(given, from_history, atol=1e-5)
    _, coffee = model.component_scores(histories, [["coffee beans"], []])
    assert not torch.allclose(coffee[0], from_history[0]) and torch.allclose(coffee[1], from_history[1])
    expected = model.phrase_vectors(["coffee beans"]) @ model.item_vectors().T / model.config.temperature
    assert torch.allclose(coffee[0], expected[0], atol=1e-5)
    beta = float(model.beta)
    collaborative, _ = model.component_scores(histories)
    fused = model.scores_with_tags(histories, [["coffee beans"], []])
    assert torch.allclose(fused, beta * collaborative + (1 - beta) * coffee, atol=1e-5)


def test_the_sweep_keeps_the_validation_best_beta():
    model = small_tar(beta_grid=[0.0, 0.3, 0.5, 0.7, 1.0])
    # item 1 is the target: under y_col item 2 beats it, under y_sem item 3 does; only beta = 0.5 ranks it first
    collaborative = torch.tensor([[0.0, 1.2, 2.0, 0.0]])
    semantic = torch.tensor([[0.0, 1.2, 0.0, 2.0]])
    model.component_scores = lambda histories: (
        (collaborative.expand(len(histories), -1),) * 1 + (semantic.expand(len(histories), -1),)
    )
    model.n_items = 3
    valid = EvalSet([np.array([3]), np.array([2])], np.array([1, 1]))
    tuned = model.tune_on_validation(valid, np.array([0, 5, 3, 1]), EvaluateConfig())
    assert tuned["best_beta"] == 0.5 and float(model.beta) == 0.5
    by_beta = {row["beta"]: row["ndcg@10"] for row in tuned["beta_sweep"]}
    assert by_beta[0.5] == 1.0 and by_beta[0.0] < 1.0 and by_beta[1.0] < 1.0


def test_a_fixed_beta_is_not_swept():
    model = small_tar(beta=0.8)
    assert model.tune_on_validation(EvalSet([np.array([1])], np.array([2])), np.ones(25), EvaluateConfig()) == {}
    assert float(model.beta) == pytest.approx(0.8)


def test_trains_through_the_pipeline_and_keeps_its_tuned_beta(tmp_path):
    data = dataset()
    events = [
        (user, data.items["item_id"].iloc[i - 1]) for user, seq in zip(data.user_ids, data.sequences) for i in seq
    ]
    config = load_config(
        None,
        [
            *files_catalogue(tmp_path, catalogue(), events, category_field="categories", brand_field="brand"),
            f"run_dir={tmp_path / 'run'}",
            "model.hidden_size=16",
            "model.negatives=16",
            "train.epochs=30",
            "train.lr=0.01",
            "train.batch_size=64",
            "evaluate.mask_history=true",
            "evaluate.ks=[3]",
        ],
        model="tar",
    )
    results = train_and_evaluate(config)
    tuned = results["train"]["tuned_on_validation"]
    assert len(tuned["beta_sweep"]) == 11
    # three unseen items of the user's category are left: a model that follows categories ranks them first
    assert results["test"]["recall@3"] > 0.8
    assert float(load_run(tmp_path / "run").model.beta) == pytest.approx(tuned["best_beta"])
