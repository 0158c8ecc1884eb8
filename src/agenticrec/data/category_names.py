"""Readable names for opaque category ids, from the words that set each category's items apart.

A category's name is its ``top`` most distinctive words: those whose share of the category's item texts most exceeds
their share of the whole catalogue (share × log lift), skipping stop words and a word that only inflects one already
chosen (``printer`` after ``printers``). Only item texts are read, never interactions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

STEM = 5  # words sharing their first STEM letters count as one


def inflects(word: str, other: str) -> bool:
    """Whether two words are one word for naming: one starts the other, or they share their first STEM letters."""
    return word.startswith(other) or other.startswith(word) or word[:STEM] == other[:STEM]


def keyphrase_names(texts: Sequence[str], categories: Sequence[str], top: int = 3) -> dict[str, str]:
    """Category id -> ``word, word, word``; an id keeps a ``(<id>)`` suffix where two names would coincide."""
    vectorizer = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[a-zA-Z]{2,}\b", binary=True)
    present = vectorizer.fit_transform(texts)
    vocabulary = vectorizer.get_feature_names_out()
    overall = np.asarray(present.mean(axis=0)).ravel()
    labels = np.asarray(categories)
    names = {}
    for category in sorted(set(categories)):
        share = np.asarray(present[labels == category].mean(axis=0)).ravel()
        lift = np.log(np.where(share > 0, share, 1.0) / overall)
        chosen: list[str] = []
        for index in np.argsort(-(share * lift), kind="stable"):
            word = str(vocabulary[index])
            if share[index] == 0 or len(chosen) == top:
                break
            if not any(inflects(word, other) for other in chosen):
                chosen.append(word)
        names[category] = ", ".join(chosen) or category
    counts = Counter(names.values())
    return {category: name if counts[name] == 1 else f"{name} ({category})" for category, name in names.items()}
