"""AgenticRS: recommender components as agents with a decision space (`card`, `space`), an inner reward and what
they feed, evolved individually (seeded random search, Optuna TPE, an LLM proposer, LLM+TPE, an LLM chooser among
TPE's candidates, a Thompson bandit over one-decision moves: `study`) and in composition (fusion, agent selection,
routing by user segment: `composition`) under the outer, system-level reward.

Its config (`config`) sits low so the run config can hold it, its commands are `cli`, and `api.AgenticRS` is the
Python entry point. Nothing is imported here: the run config imports `evolve.config`, which must not pull in the
stage code above it.
"""
