"""The layer contract covers every module: a new module cannot escape it by not being named."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "agenticrec"


def layer_modules() -> set[str]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["name"].startswith("Layers only point down"))["layers"]
    return {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}


def modules() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_every_module_falls_under_exactly_one_layer():
    listed = layer_modules()
    for module in modules() - {"agenticrec", "agenticrec.__main__"}:
        owners = [name for name in listed if module == name or module.startswith(name + ".")]
        if module.startswith("agenticrec.testing") or (module == "agenticrec.tagger"):
            continue  # the test doubles have their own contract; the tagger's __init__ only re-exports its API
        assert len(owners) == 1, f"{module} falls under {owners or 'no layer'} of the contract in pyproject.toml"
