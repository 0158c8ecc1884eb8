"""TAR, RecGPT's user–item–tag tri-tower retrieval model (report §2.3), trained for next-item retrieval.

- Item tower: item id, category and brand embeddings -> MLP.
- User tower: the mean of the history's item vectors and the mean of its ``recent`` most recent ones -> MLP. The
  report also pools per behaviour type and embeds the user id; here a user is their history (the scoring interface
  passes item sequences, which also serves users unseen in training), and our Amazon sets have one behaviour type.
- Tag tower: the mean of a tag's word embeddings -> MLP.
- Loss ``L_col + w·(alpha·L_tag + (1 - alpha)·L_cate)`` (``w`` = ``semantic_weight``, 1 in the report), each a
  sampled softmax over cosine similarities / temperature: user -> next item; the next item's tag -> that item; the
  tag -> an item of the next item's category, with items of other categories as negatives. Negatives are drawn
  uniformly or by training popularity; the latter with the log-Q correction (logit - log Q(item)).
- Scores ``beta·y_col + (1 - beta)·y_sem``: ``y_col`` user–item, ``y_sem`` the user's tags (those of their last
  ``tag_items`` items) against the item, mean or max over tags. ``beta = 1`` is the two-tower model's score.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agenticrec.config import EvaluateConfig
from agenticrec.data.dataset import MISSING, EvalSet
from agenticrec.evaluate.ranking import evaluate_variants
from agenticrec.models.base import Model, ModelInputs
from agenticrec.models.sequences import left_pad, next_item_examples
from agenticrec.models.tar.config import TARConfig
from agenticrec.models.tar.tags import WORD, TagTable, category_tags, descriptor_tags, table_tags

TRAINING_BETA = 0.5
"""Fusion weight of validation during training when ``beta`` is left to the sweep."""


def codes(values: np.ndarray | None, n_items: int) -> np.ndarray:
    """Integer codes per item index (0 = padding or missing) for string values in index order."""
    out = np.zeros(n_items + 1, dtype=np.int64)
    if values is not None:
        vocabulary = {v: i + 1 for i, v in enumerate(dict.fromkeys(v for v in values if v != MISSING))}
        out[1:] = [vocabulary.get(v, 0) for v in values]
    return out


def sampled_softmax(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    excluded: torch.Tensor,
    temperature: float,
    log_q: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Cross-entropy of each anchor's positive against shared negatives; ``excluded`` (rows, negatives) marks
    negatives that are not negatives for that row (the positive itself, or an item of its category). ``log_q``: the
    log sampling probabilities of the positives (rows) and of the negatives, subtracted from their logits."""
    positive_logit = (anchor * positive).sum(-1, keepdim=True) / temperature
    negative_logits = anchor @ negatives.T / temperature
    if log_q is not None:
        positive_logit = positive_logit - log_q[0][:, None]
        negative_logits = negative_logits - log_q[1][None]
    logits = torch.cat([positive_logit, negative_logits.masked_fill(excluded, -torch.inf)], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))


def _mlp(inputs: int, hidden: int, out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out))


class TAR(nn.Module, Model):
    config_class: ClassVar[type[TARConfig]] = TARConfig
    supports_refit = False  # beta is chosen on validation items, which a refit model would have trained on
    # buffers registered in __init__ (declared for the type checker)
    beta: torch.Tensor
    item_category: torch.Tensor
    item_brand: torch.Tensor
    category_members: torch.Tensor
    category_start: torch.Tensor
    category_size: torch.Tensor
    sampling: torch.Tensor

    @classmethod
    def uses_semantic_ids(cls, config: TARConfig) -> bool:
        return config.tags == "descriptors"

    @classmethod
    def create(cls, config: TARConfig, inputs: ModelInputs) -> TAR:
        dataset = inputs.require_dataset()
        if config.tags == "descriptors":
            tags = descriptor_tags(inputs.require_semantic_ids())
        elif config.tags == "table":
            assert config.tag_table is not None  # the config's validator pairs them
            tags = table_tags(dataset, config.tag_table)
        else:
            tags = category_tags(dataset)
        return cls(
            inputs.n_items,
            config,
            categories=codes(dataset.categories(), inputs.n_items),
            brands=codes(dataset.brands(), inputs.n_items),
            tags=TagTable.build(tags),
            item_counts=inputs.item_counts,
        )

    @classmethod
    def protocol_notes(cls, config: TARConfig) -> dict[str, str]:
        beta = f"{config.beta}" if config.beta is not None else f"best of {config.beta_grid} on validation NDCG@10"
        return {
            "fusion": f"beta·user-item + (1 - beta)·tag-item, beta {beta}; a user's tags: the {config.tags} tags of "
            f"their last {config.tag_items} items, {config.tag_aggregation} over tags",
            "loss": f"sampled softmax ({config.negatives} shared {config.negative_sampling} negatives"
            f"{', log-Q corrected' if config.logq and config.negative_sampling != 'uniform' else ''}, temperature "
            f"{config.temperature}): L_col + {config.semantic_weight}·({config.alpha}·L_tag + "
            f"{1 - config.alpha:g}·L_cate)",
        }

    def __init__(
        self,
        n_items: int,
        config: TARConfig,
        categories: np.ndarray,
        brands: np.ndarray,
        tags: TagTable,
        item_counts: np.ndarray,
    ):
        """``categories`` and ``brands``: integer codes per item index (0 = none); ``item_counts``: training counts
        per item index (popularity sampling)."""
        super().__init__()
        self.n_items, self.config, self.tags = n_items, config, tags
        self.label = "TAR" if config.semantic_weight > 0 else "two-tower"
        d = config.hidden_size
        self.register_buffer("beta", torch.tensor(config.beta if config.beta is not None else TRAINING_BETA))
        self.register_buffer("item_category", torch.as_tensor(categories), persistent=False)
        self.register_buffer("item_brand", torch.as_tensor(brands), persistent=False)
        members = np.argsort(categories, kind="stable")
        sizes = np.bincount(categories, minlength=int(categories.max()) + 1)
        self.register_buffer("category_members", torch.as_tensor(members), persistent=False)
        self.register_buffer("category_size", torch.as_tensor(sizes), persistent=False)
        self.register_buffer("category_start", torch.as_tensor(np.cumsum(sizes) - sizes), persistent=False)
        weights = np.ones(n_items + 1) if config.negative_sampling == "uniform" else item_counts[: n_items + 1] + 1.0
        weights[0] = 0.0  # never the padding item
        self.register_buffer(
            "sampling", torch.as_tensor(weights / weights.sum(), dtype=torch.float32), persistent=False
        )
        self.item_id = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.category = nn.Embedding(int(categories.max()) + 1, d, padding_idx=0)
        self.brand = nn.Embedding(int(brands.max()) + 1, d, padding_idx=0)
        self.item_mlp = _mlp(3 * d, config.mlp_size, d, config.dropout)
        self.user_mlp = _mlp(2 * d, config.mlp_size, d, config.dropout)
        self.word = nn.EmbeddingBag(max(len(tags.words), 1), d, mode="mean")
        self.tag_mlp = _mlp(d, config.mlp_size, d, config.dropout)
        for embedding in (self.item_id, self.category, self.brand, self.word):
            nn.init.normal_(embedding.weight, std=0.1)

    # ---- towers ----------------------------------------------------------------------------------------

    def item_vectors(self) -> torch.Tensor:
        """Unit vectors of every item (row 0 = padding), (n_items + 1, d)."""
        index = torch.arange(self.n_items + 1, device=self.item_id.weight.device)
        features = torch.cat(
            [self.item_id(index), self.category(self.item_category), self.brand(self.item_brand)], dim=1
        )
        return F.normalize(self.item_mlp(features), dim=-1)

    def user_vectors(self, histories: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Unit vectors of left-padded ``histories`` (B, L): the MLP of their mean and recent-mean item vectors."""
        present = (histories > 0).float()
        recent = present.clone()
        recent[:, : -self.config.recent] = 0.0
        vectors = items[histories]
        pools = [
            (vectors * weight[..., None]).sum(1) / weight.sum(1, keepdim=True).clamp(min=1.0)
            for weight in (present, recent)
        ]
        return F.normalize(self.user_mlp(torch.cat(pools, dim=1)), dim=-1)

    def tag_vectors(self) -> torch.Tensor:
        """Unit vectors of every tag phrase, (n_phrases, d)."""
        device = self.item_id.weight.device
        words = self.word(self.tags.phrase_words.to(device), self.tags.phrase_offsets.to(device))
        return F.normalize(self.tag_mlp(words), dim=-1)

    # ---- training --------------------------------------------------------------------------------------

    def training_examples(self, train: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return next_item_examples(train, self.config.max_len)

    def loss(self, histories: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        config = self.config
        items = self.item_vectors()
        negatives = torch.multinomial(self.sampling, config.negatives, replacement=True)
        loss = self.collaborative_loss(histories, targets, items, negatives)
        tag, tagged = self.sample_tags(targets)
        if config.semantic_weight == 0 or not tagged.any():
            return loss
        anchors, own = self.tag_vectors()[tag[tagged]], targets[tagged]
        semantic = config.alpha * self.tag_loss(anchors, own, items, negatives)
        semantic = semantic + (1 - config.alpha) * self.category_loss(anchors, own, items, negatives)
        return loss + config.semantic_weight * semantic

    def collaborative_loss(
        self, histories: torch.Tensor, targets: torch.Tensor, items: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        """L_col: each history's user vector against its next item."""
        users = self.user_vectors(histories, items)
        excluded = negatives[None] == targets[:, None]
        return sampled_softmax(
            users, items[targets], items[negatives], excluded, self.config.temperature, self.log_q(targets, negatives)
        )

    def tag_loss(
        self, anchors: torch.Tensor, targets: torch.Tensor, items: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        """L_tag: each target item's tag vector against that item."""
        excluded = negatives[None] == targets[:, None]
        return sampled_softmax(
            anchors, items[targets], items[negatives], excluded, self.config.temperature, self.log_q(targets, negatives)
        )

    def category_loss(
        self, anchors: torch.Tensor, targets: torch.Tensor, items: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        """L_cate: each tag vector against a random item of its target's category; negatives of that category are
        left out. Targets without a category do not count."""
        category = self.item_category[targets]
        known = category > 0
        if not known.any():
            return torch.zeros((), device=items.device)
        category = category[known]
        excluded = self.item_category[negatives][None] == category[:, None]
        positives = self.same_category(category)
        return sampled_softmax(
            anchors[known],
            items[positives],
            items[negatives],
            excluded,
            self.config.temperature,
            self.log_q(positives, negatives),
        )

    def log_q(self, positives: torch.Tensor, negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The log sampling probabilities that correct the logits, when negatives follow popularity and ``logq``."""
        if not self.config.logq or self.config.negative_sampling == "uniform":
            return None
        return self.sampling[positives].log(), self.sampling[negatives].log()

    def sample_tags(self, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One of each target item's tag phrases, uniformly, and which targets have any."""
        offsets = self.tags.item_offsets.to(targets.device)
        start, count = offsets[targets], offsets[targets + 1] - offsets[targets]
        tagged = count > 0
        if not tagged.any():
            return torch.zeros_like(targets), tagged
        pick = start + (torch.rand(len(targets), device=targets.device) * count).long()
        phrases = self.tags.item_phrases.to(targets.device)
        return torch.where(tagged, phrases[pick.clamp(max=len(phrases) - 1)], 0), tagged

    def same_category(self, categories: torch.Tensor) -> torch.Tensor:
        """A uniformly drawn item of each (known) category."""
        offset = (torch.rand(len(categories), device=categories.device) * self.category_size[categories]).long()
        return self.category_members[self.category_start[categories] + offset]

    # ---- scoring ---------------------------------------------------------------------------------------

    @torch.no_grad()
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        return self.fused_scores(histories, float(self.beta))

    @torch.no_grad()
    def fused_scores(self, histories: list[np.ndarray], beta: float) -> torch.Tensor:
        """``beta·y_col + (1 - beta)·y_sem`` for every item (column 0 = padding); a user without tags has y_sem 0."""
        collaborative, semantic = self.component_scores(histories)
        return beta * collaborative + (1 - beta) * semantic

    @torch.no_grad()
    def component_scores(
        self, histories: list[np.ndarray], user_tags: list[list[str]] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(y_col, y_sem), each (len(histories), n_items + 1), as cosine similarities / temperature. A user's tags
        are ``user_tags[row]`` where given (e.g. the tags part 1 predicted; phrases of words the tag tower never saw
        are dropped), else those of their last ``tag_items`` items; a user without tags has y_sem 0."""
        device = self.item_id.weight.device
        items = self.item_vectors()
        users = self.user_vectors(left_pad(histories, self.config.max_len).to(device), items)
        collaborative = users @ items.T / self.config.temperature
        tag_item = self.tag_vectors() @ items.T / self.config.temperature  # (n_phrases, n_items + 1)
        semantic = torch.zeros_like(collaborative)
        for row, phrases in enumerate(self.tags.user_phrases(histories, self.config.tag_items)):
            given = self.phrase_vectors(user_tags[row]) if user_tags is not None else None
            if given is not None:
                own = given @ items.T / self.config.temperature
            elif phrases:
                own = tag_item[phrases]
            else:
                continue
            semantic[row] = own.mean(0) if self.config.tag_aggregation == "mean" else own.max(0).values
        return collaborative, semantic

    @torch.no_grad()
    def scores_with_tags(self, histories: list[np.ndarray], user_tags: list[list[str]]) -> torch.Tensor:
        """The fused score at the model's beta with each user's own tags (see ``component_scores``)."""
        collaborative, semantic = self.component_scores(histories, user_tags)
        beta = float(self.beta)
        return beta * collaborative + (1 - beta) * semantic

    def phrase_vectors(self, phrases: list[str]) -> torch.Tensor | None:
        """Tag-tower vectors of free phrases over the words it was trained on; None if no phrase has one."""
        bags = [[self.tags.word_ids[w] for w in WORD.findall(p.lower()) if w in self.tags.word_ids] for p in phrases]
        bags = [bag for bag in bags if bag]
        if not bags:
            return None
        device = self.item_id.weight.device
        flat = torch.tensor([w for bag in bags for w in bag], dtype=torch.long, device=device)
        offsets = torch.tensor([0, *np.cumsum([len(b) for b in bags])[:-1]], dtype=torch.long, device=device)
        return F.normalize(self.tag_mlp(self.word(flat, offsets)), dim=-1)

    def tune_on_validation(self, valid: EvalSet, item_counts: np.ndarray, evaluate: EvaluateConfig) -> dict[str, Any]:
        """Sweep ``beta_grid`` on validation NDCG@10 (unless ``beta`` is fixed) and keep the best; the sweep also
        records each beta's top-10 tail exposure."""
        if self.config.beta is not None:
            return {}
        self.eval()

        def fusions(histories: list[np.ndarray]) -> dict[float, torch.Tensor]:
            collaborative, semantic = self.component_scores(histories)  # once per batch for every beta
            return {beta: beta * collaborative + (1 - beta) * semantic for beta in self.config.beta_grid}

        by_beta = evaluate_variants(
            fusions, valid, item_counts, ks=[10], mask_history=evaluate.mask_history, batch_size=evaluate.batch_size
        )
        sweep = [
            {"beta": beta, "ndcg@10": metrics["ndcg@10"], "exposure@10_tail": metrics["exposure@10_tail"]}
            for beta, metrics in by_beta.items()
        ]
        best = max(sweep, key=lambda row: row["ndcg@10"])
        self.beta.fill_(best["beta"])
        return {"best_beta": best["beta"], "beta_sweep": sweep}
