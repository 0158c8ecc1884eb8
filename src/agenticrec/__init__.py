"""agenticrec: LLM agents that build item features, user-intent signals and explanations for recommenders.

The Python API in brief (each name is documented where it lives)::

    import agenticrec as ar

    dataset = ar.load_dataset("movielens-100k")
    vocabulary = ar.Tagger(run_dir="runs/tags").build(dataset)        # AgenticTagger
    intent = ar.RecGPT.from_config(data="amazon-office").compress()   # RecGPT; likewise ar.LaMAR, ar.AgenticRS
    run = ar.Run.from_config(model="sasrec-ce", data="amazon-beauty", overrides=["run_dir=runs/beauty"])
    metrics = run.train()
    lists = run.recommend(["196"], k=10)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agenticrec.augment.api import LaMAR
    from agenticrec.data import Dataset, load_dataset
    from agenticrec.evolve.api import AgenticRS
    from agenticrec.intent.api import RecGPT
    from agenticrec.llm import LLMClient, LLMConfig
    from agenticrec.pipeline import Run, RunConfig, load_config, load_run
    from agenticrec.semantic_ids import SemanticIDs
    from agenticrec.tagger import Tagger, TaggerConfig, Vocabulary
    from agenticrec.tagger.critique.experiment import run_critique

__version__ = "0.1.0"

_HOMES = {
    "AgenticRS": "agenticrec.evolve.api",
    "Dataset": "agenticrec.data",
    "LLMClient": "agenticrec.llm",
    "LLMConfig": "agenticrec.llm",
    "LaMAR": "agenticrec.augment.api",
    "RecGPT": "agenticrec.intent.api",
    "Run": "agenticrec.pipeline",
    "RunConfig": "agenticrec.pipeline",
    "SemanticIDs": "agenticrec.semantic_ids",
    "Tagger": "agenticrec.tagger",
    "TaggerConfig": "agenticrec.tagger",
    "Vocabulary": "agenticrec.tagger",
    "load_config": "agenticrec.pipeline",
    "load_dataset": "agenticrec.data",
    "load_run": "agenticrec.pipeline",
    "run_critique": "agenticrec.tagger.critique.experiment",
}
__all__ = [
    "AgenticRS",
    "Dataset",
    "LLMClient",
    "LLMConfig",
    "LaMAR",
    "RecGPT",
    "Run",
    "RunConfig",
    "SemanticIDs",
    "Tagger",
    "TaggerConfig",
    "Vocabulary",
    "load_config",
    "load_dataset",
    "load_run",
    "run_critique",
]


def __getattr__(name: str) -> Any:
    """The API's names are imported on first use: ``import agenticrec.llm`` (a Ray worker, the CLI) stays light."""
    if name not in _HOMES:
        raise AttributeError(f"module 'agenticrec' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
