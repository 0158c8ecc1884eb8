"""Semantic item IDs, built as a stage of their own (`agenticrec ids build` writes ``RUN_DIR/semantic_ids/``):
builders (`builders`: residual k-means, descriptor paths published by `tag assign`, category paths), the IDs with
the one collision resolver (`codes`), integer tokens (`tokenizer`) and the prefix trie that keeps beam search on
valid, allowed items (`trie`).
"""

from agenticrec.semantic_ids.builders import (
    SEMANTIC_ID_BUILDERS,
    build_semantic_ids,
    load_semantic_ids,
    save_semantic_ids,
    semantic_ids_path,
)
from agenticrec.semantic_ids.codes import SemanticIDs, catalogue_key
from agenticrec.semantic_ids.config import SemanticIDConfig

__all__ = [
    "SEMANTIC_ID_BUILDERS",
    "SemanticIDConfig",
    "SemanticIDs",
    "build_semantic_ids",
    "catalogue_key",
    "load_semantic_ids",
    "save_semantic_ids",
    "semantic_ids_path",
]
