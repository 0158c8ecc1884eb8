"""LaMAR: an LLM-proposed item attribute (`propose`), generated for every item and checked (`generate`), measured
for diversity (`diversity`), and the LLM ranker (`ranker`); the text-based recommenders that read it are in
`models`.

Its config (`config`) sits low so the run config can hold it, its commands are `cli`, and `api.LaMAR` is the
Python entry point. Nothing is imported here: the run config imports `augment.config`, which must not pull in the
stage code above it.
"""
