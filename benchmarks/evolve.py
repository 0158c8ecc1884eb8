"""AgenticRS evolution, measured: individual evolution of the SASRec agent by each method (seeded random search,
TPE, the LLM proposer, LLM+TPE, the LLM choosing among TPE's candidates, a bandit over one-decision moves) with the
same proxy trial budget, repeated with different seeds; then compositional
evolution of retrieval agents (fusion, agent selection, routing by segment) decided on validation users and
measured on test users against each single agent.

Writes benchmarks/results/evolve.json, evolve_best_so_far.png and the "evolve" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from agenticrec.evolve.card import load_card
from agenticrec.evolve.composition import compose_agents
from agenticrec.evolve.stage import retrain_best, study_record
from agenticrec.evolve.study import LLM_METHODS, evolve_agent, storage_url
from agenticrec.llm import LLMClient
from agenticrec.llm.stats import run_stats
from agenticrec.pipeline import RunConfig, load_config
from common import RESULTS, command, save, update_section


def study_config(args: argparse.Namespace, method: str, repeat: int) -> RunConfig:
    overrides = [f"data.name={args.dataset}", f"seed={repeat}", f"evolve.method={method}",
                 f"evolve.trials={args.trials}", f"evolve.agent={args.agent}",
                 f"evolve.proxy={json.dumps(args.proxy)}", f"evolve.full={json.dumps(args.full)}", *args.overrides,
                 f"run_dir={args.runs_dir / f'{method}-seed{repeat}'}"]  # fmt: skip
    llm = args.llm if method in LLM_METHODS else None
    return load_config(None, [*overrides, *(args.llm_overrides if llm else [])], llm=llm)


def evolve_runs(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Every (method, repeat) study; each record has the best-so-far curve. Finished studies are read back."""
    out: dict[str, list[dict[str, Any]]] = {}
    card = load_card(args.agent)
    for method in args.methods:
        for repeat in range(args.start_repeat, args.llm_repeats if method in LLM_METHODS else args.repeats):
            config = study_config(args, method, repeat)
            if method in LLM_METHODS:
                with LLMClient(config.llm, config.run_dir) as client:
                    study = evolve_agent(config, card, client)
            else:
                study = evolve_agent(config, card)
            record = study_record(study) | {"method": method, "repeat": repeat}
            if method in LLM_METHODS:
                record |= llm_cost(config.run_dir)
            out.setdefault(method, []).append(record)
    return out


def llm_cost(run_dir: Path) -> dict[str, float]:
    """The evolver's calls, tokens and summed latency in a study's ledger (what its proposals cost)."""
    [evolver] = [r for r in run_stats(run_dir) if r.role == "evolver"]
    return {"llm_calls": evolver.calls, "llm_tokens_in": evolver.tokens_in, "llm_tokens_out": evolver.tokens_out,
            "llm_seconds": evolver.seconds}  # fmt: skip


def kill_figures(studies: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Over every study that was interrupted and resumed: interrupted trials whose rerun never finished (lost),
    and configurations that finished twice in one study (repeated)."""
    killed = [r for rs in studies.values() for r in rs if any(t["retry_of"] is not None for t in r["trials"])]
    lost = repeated = 0
    for record in killed:
        by_number = {t["number"]: t for t in record["trials"]}
        reruns = {t["retry_of"]: t for t in record["trials"] if t["retry_of"] is not None}
        lost += sum(by_number[n]["state"] != "COMPLETE" and t["state"] != "COMPLETE" for n, t in reruns.items())
        finished = [json.dumps(t["params"], sort_keys=True) for t in record["trials"] if t["state"] == "COMPLETE"]
        repeated += len(finished) - len(set(finished))
    return {"studies_killed_and_resumed": len(killed), "trials_lost_after_kill": lost,
            "trials_repeated_after_kill": repeated}  # fmt: skip


def retrain_overall_best(studies: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> dict[str, Any]:
    """The best proxy config over every study, retrained at full fidelity (``--full``) in its study's run dir."""
    best = max((r for records in studies.values() for r in records if r["best_inner"] is not None),
               key=lambda r: r["best_inner"])  # fmt: skip
    config = study_config(args, best["method"], best["repeat"])
    study = optuna.load_study(study_name=best["study"], storage=storage_url(config.run_dir))
    return retrain_best(config, load_card(args.agent), study)


def compose(agents: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """The library's compositional evolution (fusion and routing cards, outer reward) over the agents."""
    overrides = [f"run_dir={args.runs_dir / 'compose'}", f"evolve.compose_users={args.compose_users}",
                 f"evolve.tail_weight={args.tail_weight}", f"evolve.fusion_steps={args.steps}"]  # fmt: skip
    return compose_agents(load_config(None, overrides), agents)


def earlier_composition() -> dict[str, Any]:
    """The earlier results' full-fidelity retrain and composition, with that run's date and command, for a run
    without ``--compose-with`` (which studies only): they stay in the results, marked as carried over."""
    path = RESULTS / "evolve.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    metrics = earlier.get("metrics", {})
    if "composition" not in metrics:
        return {}
    run = metrics.get("composition_run") or {"date": earlier["date"], "command": earlier["command"]}
    return {"best_full_fidelity": metrics["best_full_fidelity"], "composition": metrics["composition"],
            "composition_run": run}  # fmt: skip


def plot(studies: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for method, records in studies.items():
        length = min(len(r["best_so_far"]) for r in records)
        curves = np.array([r["best_so_far"][:length] for r in records])
        x = np.arange(1, length + 1)
        axes.plot(x, curves.mean(axis=0), label=f"{method} ({len(records)} repeats)")
        axes.fill_between(x, curves.min(axis=0), curves.max(axis=0), alpha=0.2)
    axes.set_xlabel("proxy trials")
    axes.set_ylabel("best validation NDCG@10 so far")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = []
    for method, records in result["studies"].items():
        best = [r["best_inner"] for r in records]
        early = [f"{np.mean([r['best_so_far'][:n][-1] for r in records]):.4f}" for n in (5, 10)]
        minutes = np.mean([r["seconds"] for r in records]) / 60
        llm = f"{np.mean([r['llm_seconds'] for r in records]) / 60:.1f}" if "llm_seconds" in records[0] else "-"
        lines.append(f"| {method} | {len(records)} | {' | '.join(early)} | {np.mean(best):.4f} ± {np.std(best):.4f} | "
                     f"{minutes:.1f} | {llm} |")  # fmt: skip
    rows = "\n".join(lines)
    kills = result["summary"]
    keys = {m: "valid_proposal_share_" + m.replace("-", "_") for m in ("llm", "llm-tpe")}
    shares = ", ".join(f"{m} {kills[key]:.0%}" for m, key in keys.items() if key in kills)
    text = f"""## AgenticRS evolution ({args.dataset}, agent `{args.agent}`)

Command: `{command()}`. Proxy trials: `{" ".join(args.proxy)}`; {args.trials} trials per study, the first always the
card's default config; seeds 0, 1, … (repeats below). Reward: validation NDCG@10 (leave-one-out, full ranking);
"after n": the best reward so far after n trials. Minutes: trial training summed, and the proposer's LLM calls summed.

| method | repeats | after 5 | after 10 | after {args.trials} (mean ± std) | training min/study | LLM min/study |
|---|---|---|---|---|---|---|
{rows}

![best so far](benchmarks/results/evolve_best_so_far.png)

LLM turns whose answer was a config of the space (the others fell back to a seeded random sample; a repeat of a tried
config was moved one decision away): {shares or "-"}.

Kill and resume: {kills["studies_killed_and_resumed"]} studies were killed mid-trial (SIGKILL or SIGTERM) and resumed;
{kills["trials_lost_after_kill"]} trials lost, {kills["trials_repeated_after_kill"]} repeated.
"""
    if "composition_run" in result:
        run = result["composition_run"]
        text += f"""
Not recomputed by this command (it ran no `--compose-with`): the retrain and the composition below are carried over
from the run of {run["date"][:10]}, whose studies they followed: `{run["command"]}`.
"""
    if "best_full_fidelity" in result:
        b = result["best_full_fidelity"]
        text += f"""
The best proxy config ({b["study"]}: `{b["params"]}`) retrained at full fidelity (`{" ".join(args.full)}`, every user):
validation NDCG@10 {b["inner"]:.4f}, test NDCG@10 {b["test"]["ndcg@10"]:.4f}.
"""
    if "composition" in result:
        c = result["composition"]
        single = ", ".join(f"{k} {v:.4f}" for k, v in c["single_test_ndcg10"].items())
        routing = ", ".join(f"{segment} → {row['served_by']}" for segment, row in c["routing"].items())
        options = ", ".join(
            f"{k} {v['test_ndcg10']:.4f} (valid {v['valid_outer']:.4f})" for k, v in c["options"].items()
        )
        text += f"""
Composition, decided on {c["users"]} seeded validation users, measured on {c["users"]} seeded test users:
single agents {single}; {options}; chosen on validation: **{c["chosen"]}, test NDCG@10
{c["composed_test_ndcg10"]:.4f}** against the best single agent's {c["single_best_test_ndcg10"]:.4f}. Fusion:
{c["fusion"]}; dropped by selection: {c["dropped"] or "none"}; routing by {c["routing_segment_by"]}: {routing}.
"""
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--agent", default="sasrec")
    parser.add_argument("--methods", nargs="+", default=["random", "tpe", "llm", "llm-tpe", "chooser", "bandit"])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--llm-repeats", type=int, default=3, help="repeats of the methods that call the LLM")
    parser.add_argument("--start-repeat", type=int, default=0, help="run repeats from this one (one study per process)")
    parser.add_argument("--llm", default="qwen-1.5b", help="LLM preset of the llm methods (benchmarks only)")
    parser.add_argument("--proxy", nargs="*", default=["data.users=4000", "train.epochs=2",
                                                       "evaluate.test=false"])  # fmt: skip
    parser.add_argument("--full", nargs="*", default=["train.max_minutes=15"], help="overrides of the best retrained")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides of every study")
    parser.add_argument("--llm-set", dest="llm_overrides", nargs="*", default=[], help="overrides of the LLM studies")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks-evolve"))
    parser.add_argument("--compose-with", nargs="*", default=[], help="NAME=RUN_DIR agents fused with the best trial")
    parser.add_argument("--compose-users", type=int, default=5000)
    parser.add_argument("--tail-weight", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    studies = evolve_runs(args)
    result: dict[str, Any] = {"studies": studies}
    plot(studies, RESULTS / "evolve_best_so_far.png")
    best = {m: float(np.mean([r["best_inner"] for r in rs])) for m, rs in studies.items()}
    summary: dict[str, Any] = {f"best_valid_{m.replace('-', '_')}": v for m, v in best.items()}
    summary |= kill_figures(studies)
    for method in ("llm", "llm-tpe"):  # LLM turns that gave a config in the space (else a random one), and repeats
        turns = [t["source"] for r in studies.get(method, []) for t in r["trials"]
                 if t["source"].startswith(("llm", "random"))]  # fmt: skip
        if turns:
            name = method.replace("-", "_")
            summary[f"valid_proposal_share_{name}"] = sum(s.startswith("llm") for s in turns) / len(turns)
            summary[f"repeat_share_{name}"] = sum(s.startswith("llm (a repeat") for s in turns) / len(turns)
    if args.compose_with:
        result["best_full_fidelity"] = retrain_overall_best(studies, args)
        agents = {args.agent: Path(result["best_full_fidelity"]["run_dir"])}
        agents |= {name: Path(path) for name, path in (a.split("=", 1) for a in args.compose_with)}
        result["composition"] = compose(agents, args)
    else:
        result |= earlier_composition()
    if "composition" in result:
        summary["single_best_test_ndcg10"] = result["composition"]["single_best_test_ndcg10"]
        summary["composed_test_ndcg10"] = result["composition"]["composed_test_ndcg10"]
    protocol = {
        "dataset": args.dataset,
        "split": "leave-one-out, full ranking",
        "proxy": args.proxy,
        "trials": args.trials,
        "seeds": {m: [r["repeat"] for r in rs] for m, rs in studies.items()},
        "kills": "studies killed mid-trial and resumed: trials_lost_after_kill counts interrupted trials whose rerun "
        "did not finish, trials_repeated_after_kill configs that finished twice in one study",
        "composition": f"{args.compose_users} seeded validation users decide, as many seeded test users measure",
    }
    save("evolve", result, protocol, summary=summary)
    update_section("evolve", markdown(result | {"summary": summary}, args))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
