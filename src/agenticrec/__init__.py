"""agenticrec: LLM agents that build item features, user-intent signals and explanations for recommenders.

The Python API in brief (each name is documented where it lives)::

    import agenticrec as ar

    dataset = ar.load_dataset("movielens-100k")
    vocabulary = ar.Tagger(run_dir="runs/tags").build(dataset)
    run = ar.Run.from_config(model="sasrec-ce", data="amazon-beauty", overrides=["run_dir=runs/beauty"])
    metrics = run.train()
    lists = run.recommend(["196"], k=10)
"""

from agenticrec.critique.experiment import run_critique
from agenticrec.data import Dataset, load_dataset
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.pipeline import Run, RunConfig, load_config, load_run
from agenticrec.semantic_ids import SemanticIDs
from agenticrec.tagger import Tagger, TaggerConfig, Vocabulary

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "LLMClient",
    "LLMConfig",
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
