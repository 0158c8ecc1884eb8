"""The README's Python API snippets, run exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_snippet(index: int) -> str:
    """The ``index``-th python block of the README's Python API section."""
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) > index, f"README's Python API section has {len(blocks)} python blocks"
    return blocks[index]


@pytest.mark.slow
def test_readme_python_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(readme_snippet(0), str(README), "exec"), namespace)
    lists = namespace["run"].recommend(["196"], k=5)  # type: ignore[attr-defined]
    assert list(lists.columns) == ["user_id", "rank", "item_id", "score"]
    assert lists["rank"].tolist() == [1, 2, 3, 4, 5]
    assert (tmp_path / "runs/api-sasrec/metrics.json").is_file()
    assert 0.0 <= namespace["metrics"]["test"]["ndcg@10"] <= 1.0  # type: ignore[index]
    assert "user_id" in capsys.readouterr().out


@pytest.mark.slow
def test_readme_system_snippet_runs(tmp_path, monkeypatch):
    """RecGPT, LaMAR and AgenticRS from Python: each step writes what the command of the same name writes."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(readme_snippet(1), str(README), "exec"), namespace)
    hybrid = (tmp_path / "runs/api-recgpt/intent/hybrid.json").read_text()
    assert '"hr10_hybrid_without_llm"' in hybrid and '"users_evaluated": 100' in hybrid
    ranker = (tmp_path / "runs/api-lamar/augment/ranker.json").read_text()
    assert '"users": 10' in ranker and '"mode": "calibrated"' in ranker
    assert (tmp_path / "runs/api-evolve/evolve.json").is_file()
    study = namespace["agents"].report()["studies"][0]  # type: ignore[attr-defined]
    assert study["complete"] == 2 and study["best_params"]
    for stage in ("intent compress", "intent hybrid"):
        assert stage in (tmp_path / "runs/api-recgpt/provenance.json").read_text()


def test_recommend_rejects_unknown_users_and_descriptors(tmp_path):
    import agenticrec as ar
    from agenticrec.errors import AgenticRecError

    run = ar.Run.from_config(data="movielens-100k", model="popularity", overrides=[f"run_dir={tmp_path}"])
    run.train()
    with pytest.raises(AgenticRecError, match="unknown user id"):
        run.recommend(["no-such-user"])
    with pytest.raises(AgenticRecError, match="needs a run with semantic IDs"):
        run.recommend(["196"], allow=["Drama"])
    top = run.recommend(["196"], k=3)
    assert len(top) == 3 and top["score"].is_monotonic_decreasing
