"""Trie-constrained beam search: only valid, distinct, allowed items, with exact sequence log-probabilities."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agenticrec.models.generative import GenerativeConfig, GenerativeRetrieval
from agenticrec.semantic_ids.codes import SemanticIDs
from agenticrec.semantic_ids.tokenizer import SemanticIDTokenizer

TINY = GenerativeConfig(num_layers=1, d_model=16, d_ff=32, num_heads=2, d_kv=8, dropout=0.0, max_items=4, beam=5)


def model_for(item_paths, seed=0) -> GenerativeRetrieval:
    torch.manual_seed(seed)
    return GenerativeRetrieval(SemanticIDTokenizer(SemanticIDs.from_paths("toy", item_paths)), TINY).eval()


@torch.no_grad()
def sequence_log_prob(model: GenerativeRetrieval, history: np.ndarray, item: int) -> float:
    """log p(item's ID | history) by teacher forcing over the whole vocabulary."""
    padded = torch.zeros(1, model.config.max_items, dtype=torch.long)
    padded[0, -len(history) :] = torch.as_tensor(history)
    memory, mask = model.encode(model.source_tokens(padded))
    tokens = list(model.tokenizer.item_tokens[item])
    prefix = torch.tensor([[[0, *tokens[:-1]]]])
    log_probs = torch.log_softmax(model.decode(prefix, memory, mask)[0, 0], -1)
    return float(sum(log_probs[t, tok] for t, tok in enumerate(tokens)))


RANDOM_PATHS = [("a", "b"), ("a", "b"), ("a", "c"), ("d",), ("d", "e", "f"), (), ("a",), ("d", "e")]


def test_full_beam_returns_every_item_with_its_exact_log_probability():
    model = model_for(RANDOM_PATHS)
    history = np.array([3, 1, 5])
    items, scores = model.recommend([history], k=len(RANDOM_PATHS))
    assert sorted(items[0].tolist()) == list(range(1, len(RANDOM_PATHS) + 1))
    assert np.all(np.diff(scores[0]) <= 1e-6)  # best first
    for item, score in zip(items[0], scores[0]):
        assert score == pytest.approx(sequence_log_prob(model, history, int(item)), abs=1e-4)


def test_a_first_token_prior_adds_to_the_score_of_every_item_under_that_token():
    model = model_for(RANDOM_PATHS)
    history = np.array([3, 1, 5])
    prior = np.zeros((1, model.tokenizer.vocab_size), dtype=np.float32)
    prior[0, model.tokenizer.token_of["d"]] = 2.5
    items, scores = model.recommend([history], k=len(RANDOM_PATHS), prior=prior)
    assert sorted(items[0].tolist()) == list(range(1, len(RANDOM_PATHS) + 1))
    for item, score in zip(items[0], scores[0]):
        boost = 2.5 if RANDOM_PATHS[int(item) - 1][:1] == ("d",) else 0.0
        assert score == pytest.approx(sequence_log_prob(model, history, int(item)) + boost, abs=1e-4)
    plain, _ = model.recommend([history], k=len(RANDOM_PATHS), prior=0 * prior)
    assert plain.tolist() == model.recommend([history], k=len(RANDOM_PATHS))[0].tolist()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abc"), max_size=3).map(tuple), min_size=2, max_size=25), st.data())
def test_beam_search_emits_only_valid_distinct_allowed_items(item_paths, data):
    model = model_for(item_paths, seed=data.draw(st.integers(0, 3)))
    n = len(item_paths)
    histories = [np.array(data.draw(st.lists(st.integers(1, n), min_size=1, max_size=6))) for _ in range(3)]
    allowed = np.array([[False, *data.draw(st.lists(st.booleans(), min_size=n, max_size=n))] for _ in range(3)])
    beam = data.draw(st.integers(1, 8))
    items, scores = model.recommend(histories, k=beam, allowed=allowed)
    for row in range(3):
        found = [int(i) for i, s in zip(items[row], scores[row]) if np.isfinite(s)]
        assert len(found) == len(set(found)) == min(beam, int(allowed[row].sum()))
        assert all(allowed[row, i] for i in found)
        assert all(i == 0 for i, s in zip(items[row], scores[row]) if not np.isfinite(s))


def test_score_puts_the_beam_first_and_everything_else_at_minus_infinity():
    model = model_for(RANDOM_PATHS)
    scores = model.score([np.array([1, 2]), np.array([4])])
    assert scores.shape == (2, len(RANDOM_PATHS) + 1)
    assert (torch.isfinite(scores).sum(dim=1) == TINY.beam).all()
    assert torch.isinf(scores[:, 0]).all()
