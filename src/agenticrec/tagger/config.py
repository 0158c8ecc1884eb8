"""The `tagger:` section of a run config: AgenticTagger's hyperparameters, with the paper's defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildConfig(_Section):
    """Vocabulary building: Algorithm 1 (top-down splitting) and Algorithm 2 (self-refinement)."""

    max_depth: int = Field(3, ge=1, le=8, description="D_max: most descriptor levels")
    split_threshold: int = Field(30, ge=2, description="tau_split: a descriptor with this many items is split")
    initial_children: int = Field(15, ge=2, le=60, description="n: children the architect first proposes")
    architect: Literal["grouped", "joint"] = Field(
        "grouped",
        description="joint: one architect call proposes n children from a K-medoids sample (the paper; needs a "
        "strong model); grouped: the node's items are grouped into n K-medoids clusters and one architect call "
        "names all groups from their keyphrases and typical titles; names are checked against that evidence, "
        "re-asked with the reason, and replaced by the best keyphrase when the model keeps failing",
    )
    labels: Literal["annotator", "groups"] = Field(
        "annotator",
        description="annotator: annotators label the sample and refine the split (the paper); groups: the "
        "grouped architect's clusters label the sample (embedding-grounded, for models too small to choose)",
    )
    keyphrases: int = Field(8, ge=1, le=30, description="grouped: class-based TF-IDF keyphrases shown per group")
    naming_retries: int = Field(1, ge=0, le=5, description="grouped: re-asks for a name that fails its checks")
    max_child_share: float = Field(
        0.6, gt=0, le=1, description="a split whose largest child holds more of the labelled sample is unbalanced"
    )
    max_children: int = Field(40, ge=2, description="a split never has more children than this")
    max_cycles: int = Field(3, ge=1, description="C_max: refinement cycles per split")
    anomaly_threshold: int = Field(20, ge=0, description="tau_anom: stop refining below this many unassigned items")
    stop_coverage: float = Field(0.95, gt=0, le=1, description="stop refining once this share of items is assigned")
    branching: int = Field(1, ge=1, le=5, description="b: children an item may join per level while building")
    max_items_per_split: int | None = Field(
        None,
        ge=10,
        description="annotate a seeded random subsample of at most this many items per split "
        "(None = all); children then hold the subsample's items",
    )
    distill_samples: int = Field(40, ge=2, description="K-medoids samples of a node shown to the architect")
    error_clusters: int = Field(5, ge=1, description="clusters of unassigned items, one change proposal each")
    cluster_examples: int = Field(
        8,
        ge=1,
        description="items of an error cluster shown to the proposing annotator (grouped: the titles the architect "
        "sees when it names the cluster)",
    )
    annotate_items_per_call: int = Field(1, ge=1, le=20, description="items an annotator labels in one call")
    review: Literal["architect", "annotators"] = Field(
        "architect",
        description="who approves a change proposal: the architect in one call (the paper), or the annotators: "
        "a change to a category stands when, labelling the proposal's cluster again with it applied, they put at "
        "least half of its items under that category (outlier proposals always go to the architect)",
    )
    min_choice_share: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="annotators that choose by scores (llm.roles.annotator.choice=score or calibrated) leave an item "
        "unassigned when the model gives its pick less than this probability among the options (the whole name as "
        "the answer), so that items none of the descriptors fits reach the refinement loop (0: assign every item)",
    )

    @model_validator(mode="after")
    def _check(self) -> BuildConfig:
        if self.labels == "groups" and self.architect != "grouped":
            raise ValueError("tagger.build.labels=groups needs tagger.build.architect=grouped")
        if self.branching > 1 and self.annotate_items_per_call > 1:
            raise ValueError("branching > 1 needs annotate_items_per_call = 1 (one item per call)")
        return self


class AssignConfig(_Section):
    """Assignment of one descriptor per level to every item, top-down and constrained to the vocabulary."""

    method: Literal["llm", "classifier"] = Field(
        "classifier",
        description="llm: an LLM call per item and level (the paper); classifier: a logistic regression on "
        "item embeddings per descriptor, trained on LLM labels, with an LLM check where it is unsure",
    )
    items_per_call: int = Field(1, ge=1, le=20, description="items labelled in one LLM call")
    reuse_build_labels: bool = Field(True, description="classifier: train on the labels annotators gave while building")
    labels_per_child: int = Field(
        8, ge=1, description="classifier: labels wanted per child of a node before training (topped up by the LLM)"
    )
    check_below: float = Field(0.5, ge=0, le=1, description="classifier: ask the LLM when its top probability is lower")
    max_check_share: float = Field(0.2, ge=0, le=1, description="classifier: most items per node sent to the LLM check")
    max_share_gap: float = Field(
        0.15,
        ge=0,
        le=1,
        description="classifier: a node whose routed child shares differ from the labelled ones by "
        "more than this (largest absolute difference) is routed again, following the labelled shares",
    )


class TaggerConfig(_Section):
    embedding_model: str = Field("all-MiniLM-L6-v2", description="sentence-transformers model for item text")
    max_text_chars: int = Field(400, ge=20, description="item text is cut to this length in prompts")
    build: BuildConfig = Field(default_factory=BuildConfig)
    assign: AssignConfig = Field(default_factory=AssignConfig)
    keyword_items: int = Field(500, ge=1, description="items in the free-form keyword baseline (a seeded sample)")
    audit_items: int = Field(200, ge=1, description="items the LLM judge audits (assigned and one random sibling)")

    @model_validator(mode="after")
    def _check(self) -> TaggerConfig:
        if self.build.initial_children > self.build.max_children:
            raise ValueError("tagger.build.initial_children must not exceed tagger.build.max_children")
        return self
