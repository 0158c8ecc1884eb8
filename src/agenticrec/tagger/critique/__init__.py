"""Critique control of generative retrieval (AgenticTagger): a user, or an LLM acting as one, names the
level-1 descriptors they want; beam search then decodes only items under them (`simulated_user`,
`experiment`).
"""
