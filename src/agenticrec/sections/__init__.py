"""Config sections of the layer-7 stages (intent, judge, augment, evolve).

They sit low in the layers because the run config (``pipeline``, layer 6) holds them, while the stages that read
them sit above it. Each module also registers its stage's LLM roles, so a config naming them validates wherever
the run config is imported.
"""
