"""Add LaMAR's `fields + signal` arm to a `.gpu/` folder made by `../shared/gpu/prepare.sh`: copy a signal run's
table into `.gpu/signal/`, cache the MiniLM embeddings of the fields + signal item text in `.gpu/runs/RUN/cache`, and
write the overrides the GPU runs take to `.gpu/signal/DATASET.sets` (read by `benchmarks/lamar_gpu.sh signal`).

    .venv/bin/python benchmarks/lamar_gpu_signal.py amazon-office runs/amazon-office-signal office-signal-base
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from agenticrec.augment import artifacts
from agenticrec.embed.encoder import embed_texts
from agenticrec.pipeline import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("signal_run", type=Path, help="run directory of `augment generate`")
    parser.add_argument("run", help="the run folder under .gpu/runs whose cache the GPU runs copy")
    args = parser.parse_args()
    generation = json.loads((artifacts.augment_dir(args.signal_run) / artifacts.GENERATION).read_text())
    table = Path(".gpu/signal") / f"{args.dataset}.parquet"
    table.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(artifacts.augment_dir(args.signal_run) / artifacts.SIGNAL, table)
    fields = load_config(None, [], data=args.dataset).data.load().text_fields
    sets = [f"data.item_fields=[{table}]", f"data.text_fields=[{','.join([*fields, generation['column']])}]"]
    config = load_config(None, sets, data=args.dataset, model="textseq")
    dataset = config.data.load()
    cache = Path(".gpu/runs") / args.run / "cache"
    vectors = embed_texts(dataset.item_texts(), config.model.embedding_model, cache_dir=cache, progress=False)
    (table.parent / f"{args.dataset}.sets").write_text("\n".join(sets) + "\n")
    print(f"{args.dataset}: {vectors.shape[0]} fields + signal embeddings cached in {cache}; overrides {sets}")


if __name__ == "__main__":
    main()
