"""Leave-one-out: test = last item, validation = second-to-last, training = the rest, per user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenticrec.data import Dataset, EvalSet, LeaveOneOutSplit, load_dataset
from agenticrec.data.dataset import MIN_SEQUENCE_LENGTH
from agenticrec.errors import DataError

N_ITEMS = 30


def make_dataset(sequences: list[list[int]], n_items: int = N_ITEMS) -> Dataset:
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(1, n_items + 1)]})
    return Dataset(
        name="synthetic",
        items=items,
        user_ids=[f"u{k}" for k in range(len(sequences))],
        sequences=[np.asarray(seq, dtype=np.int64) for seq in sequences],
    )


def check_leave_one_out(split: LeaveOneOutSplit, sequences: list[np.ndarray]) -> None:
    """The split's invariants, by position (an item may legitimately recur earlier in a sequence)."""
    test, valid, train = split.stage("test"), split.stage("valid"), split.train
    assert isinstance(test, EvalSet) and isinstance(valid, EvalSet)
    assert len(test.histories) == len(valid.histories) == len(train) == len(sequences)
    assert test.targets.dtype == np.int64 and valid.targets.dtype == np.int64
    assert test.targets.shape == valid.targets.shape == (len(sequences),)
    for u, seq in enumerate(sequences):
        seq = np.asarray(seq)
        # test: history is everything before the last position, target is the last item
        assert test.targets[u] == seq[-1]
        np.testing.assert_array_equal(test.histories[u], seq[:-1])
        assert len(test.histories[u]) == len(seq) - 1
        # validation: history is the training sequence, target is the second-to-last item
        assert valid.targets[u] == seq[-2]
        np.testing.assert_array_equal(valid.histories[u], seq[:-2])
        np.testing.assert_array_equal(train[u], seq[:-2])
        # the validation target's position is in the test history but not in training
        assert test.histories[u][-1] == valid.targets[u]
        assert len(train[u]) == len(seq) - 2 >= MIN_SEQUENCE_LENGTH - 2
        # nothing is lost or duplicated
        np.testing.assert_array_equal(np.concatenate([train[u], [valid.targets[u], test.targets[u]]]), seq)


def test_small_example() -> None:
    dataset = make_dataset([[1, 2, 3], [4, 5, 6, 7, 5], [3, 3, 3]])
    split = dataset.split()
    assert split.stage("test").targets.tolist() == [3, 5, 3]
    assert split.stage("valid").targets.tolist() == [2, 7, 3]
    assert [h.tolist() for h in split.stage("test").histories] == [[1, 2], [4, 5, 6, 7], [3, 3]]
    assert [h.tolist() for h in split.stage("valid").histories] == [[1], [4, 5, 6], [3]]
    assert [t.tolist() for t in split.train] == [[1], [4, 5, 6], [3]]
    check_leave_one_out(split, dataset.sequences)


def test_unknown_stage_is_rejected() -> None:
    with pytest.raises(KeyError):
        make_dataset([[1, 2, 3]]).split().stage("train")  # type: ignore[arg-type]


def test_split_does_not_change_the_sequences() -> None:
    sequences = [[1, 2, 3, 4], [5, 6, 7]]
    dataset = make_dataset(sequences)
    split = dataset.split()
    split.stage("test"), split.stage("valid"), split.train
    assert [seq.tolist() for seq in dataset.sequences] == sequences


@pytest.mark.parametrize("short", [[], [1], [1, 2]])
def test_sequences_shorter_than_three_cannot_be_split(short: list[int]) -> None:
    with pytest.raises(DataError, match=r"fewer than 3 interactions.*user 'u1'"):
        make_dataset([[1, 2, 3], short])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=1, max_value=N_ITEMS), min_size=MIN_SEQUENCE_LENGTH, max_size=40),
        min_size=1,
        max_size=25,
    )
)
def test_leave_one_out_property(sequences: list[list[int]]) -> None:
    dataset = make_dataset(sequences)
    check_leave_one_out(dataset.split(), dataset.sequences)
    assert dataset.n_interactions == sum(map(len, sequences))


def test_leave_one_out_on_beauty(shared_data_dir: Path) -> None:
    dataset = load_dataset("amazon-beauty", data_dir=shared_data_dir)
    split = dataset.split()
    check_leave_one_out(split, dataset.sequences)
    # SOURCE.md's user 1: "1 1 2 3 4 5"
    assert dataset.user_ids[0] == "1"
    assert split.train[0].tolist() == [1, 2, 3]
    assert split.stage("valid").targets[0] == 4 and split.stage("test").targets[0] == 5
    total = sum(len(t) for t in split.train) + 2 * dataset.n_users
    assert total == dataset.n_interactions == 198_502


def test_validation_sample_is_seeded_and_keeps_user_pairs() -> None:
    valid = make_dataset([[k, k + 1, k + 2] for k in range(1, 40)]).split().stage("valid")
    sample = valid.sample(10, seed=3)
    assert len(sample.targets) == 10 and sample.targets.tolist() == valid.sample(10, seed=3).targets.tolist()
    assert all(h.tolist() == [t - 1] for h, t in zip(sample.histories, sample.targets))
    assert sample.targets.tolist() == sorted(sample.targets.tolist())  # users keep their order
    assert valid.sample(None) is valid and valid.sample(100) is valid
