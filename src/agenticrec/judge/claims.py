"""A lexical check of generated item text: which attribute-like claims the item's own text does not back."""

from __future__ import annotations

import re

# attribute words generated text may only use when the item text has them (colours, materials, properties)
_ATTRIBUTES = """
black white red blue green pink purple yellow orange brown grey gray gold silver beige nude clear coral
leather cotton silk wool plastic metal steel aluminum aluminium wooden wood glass ceramic silicone rubber bamboo
organic vegan natural unscented scented waterproof hypoallergenic paraben sulfate cruelty matte glossy shimmer
wireless rechargeable cordless ergonomic spf retinol collagen keratin argan coconut lavender vitamin
"""
ATTRIBUTE_WORDS = frozenset(_ATTRIBUTES.split())
WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'&.-]*[A-Za-z0-9])?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def claimed_attributes(text: str) -> list[str]:
    """Attribute-like words: numbers, capitalised words inside a sentence (brands, lines, ingredients), and colour,
    material or property words."""
    claimed = []
    for sentence in SENTENCE_END.split(text):
        for position, word in enumerate(WORD.findall(sentence)):
            named = position > 0 and word[0].isupper() and word not in ("I", "You")
            if named or any(c.isdigit() for c in word) or word.lower() in ATTRIBUTE_WORDS:
                claimed.append(word)
    return list(dict.fromkeys(claimed))


def absent_attributes(text: str, item_text: str, context: str = "") -> list[str]:
    """The attributes ``text`` claims that neither the item text nor ``context`` (e.g. the interest it was written
    for) contains, case-insensitively."""
    known = f"{item_text} {context}".casefold()
    return [a for a in claimed_attributes(text) if a.casefold() not in known]
