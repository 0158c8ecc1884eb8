"""RecGPT's user-intent LLMs: compressed behaviour histories, interest mining and item-tag prediction."""

from agenticrec.intent.stage import run_compress, run_evaluate, run_mine, run_tags

__all__ = ["run_compress", "run_evaluate", "run_mine", "run_tags"]
