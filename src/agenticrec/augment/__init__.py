"""LaMAR: an LLM-proposed item attribute, generated for every item, checked, and measured for diversity."""

from agenticrec.augment.diversity import run_diversity
from agenticrec.augment.generate import run_generate
from agenticrec.augment.propose import run_propose

__all__ = ["run_diversity", "run_generate", "run_propose"]
