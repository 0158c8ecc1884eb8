"""RecGPT: compressed behaviour histories, LLM interest mining and item-tag prediction, tags by candidate scoring,
and personalised explanations. The LLM judge, which LaMAR shares, is `agenticrec.judge`; the tri-tower retrieval
model is `models.tar`.

Its config (`config`) sits low so the run config can hold it, its commands are `cli`, and `api.RecGPT` is the
Python entry point. Nothing is imported here: the run config imports `intent.config`, which must not pull in the
stage code above it.
"""
