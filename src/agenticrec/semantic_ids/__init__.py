"""Semantic item IDs: builders (`builders`: residual k-means, descriptor paths, category paths), the IDs
with their collision resolver (`codes`), integer tokens (`tokenizer`) and the prefix trie that keeps beam
search on valid, allowed items (`trie`).
"""
