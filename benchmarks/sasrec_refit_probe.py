"""Probe: does refitting SASRec with each user's validation item raise its test score?

Leave-one-out toolkits differ here: S3-Rec-style code trains once on the training part, while a holdout
workflow may refit on everything before the test item. This trains the same SASRec for a fixed number of epochs
(the best epoch found on validation) twice: on the training part, and on training + validation items. Both
are evaluated on the test items, history masked and not. Writes benchmarks/results/sasrec_refit_probe-<dataset>-
seed<seed>.json.

    .venv/bin/python benchmarks/sasrec_refit_probe.py --dataset amazon-sports --epochs 7 \\
        --set model.loss=sampled_softmax model.num_layers=1 model.num_heads=1 model.dropout=0.2
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from common import save

from agenticrec.config import load_config
from agenticrec.evaluate import evaluate_ranking, item_counts
from agenticrec.models.sasrec import SASRec
from agenticrec.models.training import next_item_losses, seed_everything
from agenticrec.pipeline import load_configured_dataset


def fit_fixed_epochs(model: SASRec, sequences: list[np.ndarray], epochs: int, lr: float, batch_size: int) -> None:
    inputs, targets = model.training_examples(sequences)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for _ in range(epochs):
        for loss in next_item_losses(model, inputs, targets, batch_size, torch.device("cpu")):
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="amazon-sports")
    parser.add_argument("--epochs", type=int, required=True, help="fixed epochs (the best validation epoch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides")
    args = parser.parse_args()

    config = load_config(None, [f"data.name={args.dataset}", "model.name=sasrec", *args.overrides])
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    dataset = load_configured_dataset(config)
    split = dataset.split()
    test = split.stage("test")
    results = {}
    for name, sequences in (("train", split.train), ("train + validation item", [s[:-1] for s in dataset.sequences])):
        seed_everything(args.seed)
        model = SASRec(dataset.n_items, config.model)
        fit_fixed_epochs(model, sequences, args.epochs, config.train.lr, config.train.batch_size)
        counts = item_counts(split.train, dataset.n_items)
        results[name] = {protocol: evaluate_ranking(model.score, test, counts, ks=[10], lists=False,
                                                    mask_history=masked)["ndcg@10"]
                         for protocol, masked in (("masked", True), ("not masked", False))}
        print(name, json.dumps(results[name]))
    protocol = {"split": "leave-one-out", "ranking": "full ranking", "metric": "test ndcg@10", "epochs": args.epochs,
                "seed": args.seed, "config": config.model.model_dump(mode="json")}
    print("wrote", save(f"sasrec_refit_probe-{args.dataset}-seed{args.seed}", results, protocol))


if __name__ == "__main__":
    main()
