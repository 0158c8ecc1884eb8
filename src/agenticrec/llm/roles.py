"""The registry of LLM roles: every stage declares the roles it asks for, with a one-line description.

A stage keeps the returned name as a constant (`ARCHITECT = register_role("architect", "...")`), so a
role is named in one place; `LLMConfig` rejects a role under `llm.roles` that no stage registered, and
`agenticrec llm roles` lists them.
"""

from __future__ import annotations

ROLES: dict[str, str] = {}
"""Registered role name -> one-line description."""


def register_role(name: str, description: str) -> str:
    """Declare role `name`; returns `name`. Registering it again with another description is an error."""
    known = ROLES.setdefault(name, description)
    if known != description:
        raise ValueError(f"LLM role {name!r} is already registered as {known!r}")
    return name
