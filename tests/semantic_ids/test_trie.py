"""The item trie: every leaf is one catalogue item, expansion only offers real children, allowed-item checks."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agenticrec.semantic_ids.codes import SemanticIDs
from agenticrec.semantic_ids.tokenizer import SemanticIDTokenizer
from agenticrec.semantic_ids.trie import ItemTrie

paths = st.lists(st.lists(st.sampled_from("abcde"), max_size=3).map(tuple), min_size=1, max_size=40)


def tokenizer_for(item_paths) -> SemanticIDTokenizer:
    return SemanticIDTokenizer(SemanticIDs.from_paths("toy", item_paths))


@settings(max_examples=60, deadline=None)
@given(paths)
def test_trie_leaves_are_exactly_the_catalogue(item_paths):
    tok = tokenizer_for(item_paths)
    trie = ItemTrie(tok.item_tokens)
    assert trie.item_ids()[1:] == tok.item_tokens[1:]
    leaves = trie.leaf_item[trie.leaf_item > 0].sort().values
    assert leaves.tolist() == list(range(1, len(item_paths) + 1))
    assert trie.max_fan_out == max(max(len(trie.children(n)) for n in range(trie.n_nodes)), 1)


@settings(max_examples=60, deadline=None)
@given(paths, st.data())
def test_expand_offers_only_children_and_node_ranges_match_items(item_paths, data):
    tok = tokenizer_for(item_paths)
    trie = ItemTrie(tok.item_tokens)
    nodes = torch.tensor(data.draw(st.lists(st.integers(0, trie.n_nodes - 1), min_size=1, max_size=10)))
    child, valid = trie.expand(nodes)
    for row, node in enumerate(nodes.tolist()):
        offered = child[row][valid[row]].tolist()
        assert offered == (trie.children(node) or [node])
    # each node covers exactly the items whose ID starts with the node's prefix
    ids = trie.item_ids()
    for node in range(trie.n_nodes):
        items = set(trie.order[trie.lo[node] : trie.hi[node]].tolist())
        prefix = _prefix(trie, node)
        assert items == {i for i in range(1, len(ids)) if ids[i][: len(prefix)] == prefix}


@settings(max_examples=60, deadline=None)
@given(paths, st.data())
def test_node_allowed_iff_an_allowed_item_lies_below(item_paths, data):
    tok = tokenizer_for(item_paths)
    trie = ItemTrie(tok.item_tokens)
    n = len(item_paths)
    allowed = torch.tensor([False, *data.draw(st.lists(st.booleans(), min_size=n, max_size=n))])[None]
    sums = trie.allowed_prefix_sums(allowed)
    nodes = torch.arange(trie.n_nodes)[None]
    got = trie.node_allowed(sums, nodes)[0]
    for node in range(trie.n_nodes):
        below = trie.order[trie.lo[node] : trie.hi[node]]
        assert bool(got[node]) == bool(allowed[0, below].any())


def _prefix(trie: ItemTrie, target: int) -> tuple[int, ...]:
    stack = [(0, ())]
    while stack:
        node, prefix = stack.pop()
        if node == target:
            return prefix
        stack.extend((c, (*prefix, int(trie.token[c]))) for c in trie.children(node))
    raise AssertionError("node not reachable")
