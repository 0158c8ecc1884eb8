"""HR@K of predicted tags as the RecGPT report defines it, and the category baselines at the same K.

Each tag is mapped to a catalogue category by a tag->category model (logistic regression on sentence embeddings of
the catalogue's item short forms -> their category; tags are embedded the same way). A user is a hit at K when the
held-out next item's category is among the categories of the first K tags. Baselines rank categories directly: the
most popular ones, the user's own most recent ones, a first-order category-transition (Markov) model, and a hybrid
that re-ranks the LLM tags' categories by the transition prior.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from agenticrec.embed import embed_texts


@dataclass
class CategoryMapper:
    """Tag text -> probabilities over catalogue categories."""

    model: LogisticRegression
    embedding_model: str
    cache_dir: Path | None

    @classmethod
    def fit(
        cls, names: list[str], categories: list[str], embedding_model: str, cache_dir: Path | None, seed: int
    ) -> CategoryMapper:
        vectors = embed_texts(names, embedding_model, cache_dir=cache_dir, progress=False)
        model = LogisticRegression(C=10.0, max_iter=300, random_state=seed)
        model.fit(vectors, categories)
        return cls(model, embedding_model, cache_dir)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    def probabilities(self, tags: list[str]) -> np.ndarray:
        """One row of category probabilities per tag (columns in ``classes`` order)."""
        if not tags:
            return np.zeros((0, len(self.classes)))
        return np.asarray(self.model.predict_proba(embed_texts(tags, self.embedding_model, progress=False)))

    def categories_of(self, tags: list[str]) -> list[str]:
        """The most likely category of each tag, in tag order."""
        probs = self.probabilities(tags)
        return [self.classes[j] for j in probs.argmax(axis=1)] if len(tags) else []


def distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def hit_at(ranked: list[str], target: str, k: int) -> bool:
    """Whether ``target`` is among the first ``k`` entries of ``ranked``."""
    return target in ranked[:k]


@dataclass
class CategoryPriors:
    """Category popularity and first-order transitions, counted on histories only (never on held-out items)."""

    popular: list[str]
    transitions: dict[str, Counter[str]]

    @classmethod
    def count(cls, histories: list[list[str]]) -> CategoryPriors:
        popularity: Counter[str] = Counter(c for h in histories for c in h)
        transitions: dict[str, Counter[str]] = {}
        for h in histories:
            for a, b in pairwise(h):
                transitions.setdefault(a, Counter())[b] += 1
        return cls([c for c, _ in popularity.most_common()], transitions)

    def recent(self, history: list[str], k: int) -> list[str]:
        """The user's own most recent distinct categories, then the most popular ones."""
        return distinct([*reversed(history), *self.popular])[:k]

    def transition_scores(self, last: str) -> dict[str, float]:
        counts = self.transitions.get(last, Counter())
        total = sum(counts.values())
        return {c: n / total for c, n in counts.items()} if total else {}

    def transition(self, history: list[str], k: int) -> list[str]:
        """Categories by P(next | last category), ties and the rest by popularity."""
        scores = self.transition_scores(history[-1]) if history else {}
        ranked = sorted(scores, key=lambda c: -scores[c])
        return distinct([*ranked, *self.popular])[:k]

    def hybrid(self, tag_categories: list[str], history: list[str], k: int, prior_weight: float) -> list[str]:
        """The LLM tags' categories (vote share) mixed with the transition prior; ties by popularity."""
        votes = Counter(tag_categories)
        total = sum(votes.values()) or 1
        prior = self.transition_scores(history[-1]) if history else {}
        rank = {c: i for i, c in enumerate(self.popular)}
        scores = {
            c: (1 - prior_weight) * votes.get(c, 0) / total + prior_weight * prior.get(c, 0.0)
            for c in set(votes) | set(prior)
        }
        ranked = sorted(scores, key=lambda c: (-scores[c], rank.get(c, len(rank))))
        return distinct([*ranked, *self.popular])[:k]
