"""A prefix trie over every item's token ID, used to decode only valid (and allowed) items.

Items are sorted by their token sequence, so each trie node covers a contiguous range of sorted positions:
"does this node lead to an allowed item" is then a difference of prefix sums, for any set of allowed items.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from agenticrec.semantic_ids.tokenizer import PAD


class ItemTrie:
    """Node 0 is the root; a leaf is the node reached by an item's last token (EOS) and maps to the item."""

    def __init__(self, item_tokens: Sequence[Sequence[int]]) -> None:
        n_items = len(item_tokens) - 1
        order = sorted(range(1, n_items + 1), key=lambda i: tuple(item_tokens[i]))
        tokens, lo, hi = [PAD], [0], [n_items]
        children: list[list[int]] = [[]]
        leaf_item = [0]
        edges: dict[tuple[int, int], int] = {}
        for position, item in enumerate(order):
            node = 0
            for token in item_tokens[item]:
                child = edges.get((node, token))
                if child is None:
                    child = len(tokens)
                    edges[(node, token)] = child
                    tokens.append(token)
                    lo.append(position)
                    hi.append(position)
                    children.append([])
                    leaf_item.append(0)
                    children[node].append(child)
                hi[child] = position + 1
                node = child
            if leaf_item[node]:
                raise ValueError(f"items {leaf_item[node]} and {item} have the same token ID")
            leaf_item[node] = item
        self.n_items = n_items
        self.order = torch.as_tensor(order, dtype=torch.long)  # sorted position -> item index
        self.token = torch.as_tensor(tokens, dtype=torch.long)
        self.lo = torch.as_tensor(lo, dtype=torch.long)
        self.hi = torch.as_tensor(hi, dtype=torch.long)
        self.leaf_item = torch.as_tensor(leaf_item, dtype=torch.long)
        counts = torch.as_tensor([len(c) for c in children], dtype=torch.long)
        self.child_ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
        self.child_ids = torch.as_tensor([c for cs in children for c in cs], dtype=torch.long)
        self.max_depth = max((len(t) for t in item_tokens[1:]), default=0)
        self.max_fan_out = max(int(counts.max()) if len(counts) else 1, 1)

    @property
    def n_nodes(self) -> int:
        return len(self.token)

    def children(self, node: int) -> list[int]:
        return self.child_ids[self.child_ptr[node] : self.child_ptr[node + 1]].tolist()

    def expand(self, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Children of each node, padded: ``(child_nodes, valid)`` of shape (len(nodes), widest fan-out).

        A leaf (finished ID) has itself as its only "child", so finished beams carry over unchanged.
        """
        start, count = self.child_ptr[nodes], self.child_ptr[nodes + 1] - self.child_ptr[nodes]
        is_leaf = count == 0
        width = max(int(count.max()) if len(nodes) else 1, 1)
        offsets = torch.arange(width)[None, :]
        valid = offsets < count[:, None]
        index = (start[:, None] + offsets).clamp(max=max(len(self.child_ids) - 1, 0))
        child = torch.where(valid, self.child_ids[index], 0)
        child[is_leaf, 0] = nodes[is_leaf]
        valid[is_leaf, 0] = True
        return child, valid

    def allowed_prefix_sums(self, allowed: torch.Tensor) -> torch.Tensor:
        """(B, n_items + 1) boolean item masks -> (B, n_items + 1) counts of allowed items before each sorted
        position."""
        in_order = allowed[:, self.order].long()
        return torch.cat([torch.zeros(len(allowed), 1, dtype=torch.long), in_order.cumsum(1)], dim=1)

    def node_allowed(self, prefix_sums: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """Whether each node of ``nodes`` (B, ...) leads to at least one allowed item of its row."""
        flat = nodes.reshape(len(nodes), -1)
        below = prefix_sums.gather(1, self.hi[flat]) - prefix_sums.gather(1, self.lo[flat])
        return (below > 0).reshape(nodes.shape)

    def item_ids(self) -> list[tuple[int, ...]]:
        """Every item's token ID, walking the trie (used by tests to check it against the tokeniser)."""
        out: list[tuple[int, ...]] = [()] * (self.n_items + 1)
        stack: list[tuple[int, tuple[int, ...]]] = [(0, ())]
        while stack:
            node, prefix = stack.pop()
            if self.leaf_item[node]:
                out[int(self.leaf_item[node])] = prefix
            stack.extend((c, (*prefix, int(self.token[c]))) for c in self.children(node))
        return out
