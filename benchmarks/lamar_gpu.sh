#!/usr/bin/env bash
# LaMAR's models on one GPU: textseq at the paper size (hidden 300, 8 experts) and at CPU sizes, and SASRec-CE, on
# Scientific and Office (item fields only; early stopping, patience 10, no time budget), 17 runs at once. Every
# metrics.json and log come back in one tarball, which `benchmarks/lamar_models.py --runs` reads. Prepare and run:
#   bash ../shared/gpu/prepare.sh amazon-scientific:textseq:sci-base amazon-office:textseq:office-base
#   cp benchmarks/lamar_gpu.sh .gpu/ && (on the GPU machine, .gpu carried) bash .gpu/lamar_gpu.sh
# The fields + signal arm, once `augment generate` has run: `benchmarks/lamar_gpu_signal.py` for each dataset, then
# `bash .gpu/lamar_gpu.sh signal` there.
set -u
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH="$PWD/.gpu/src:/tmp/site" AGENTICREC_DATA_DIR="$PWD/.gpu/data" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi -L; mkdir -p .gpu/logs
train() {  # NAME DATASET MODEL CACHE_RUN SETTINGS...: CACHE_RUN is the prepared run whose embedding cache it copies
  local name=$1 data=$2 model=$3 cache=$4; shift 4
  mkdir -p .gpu/runs/$name
  [ "$cache" != - ] && cp -r .gpu/runs/$cache/cache .gpu/runs/$name/
  local sets=(); for s in "$@"; do sets+=(--set "$s"); done
  timeout 470 python3 -m agenticrec train --data $data --model $model --run-dir .gpu/runs/$name \
    --set train.device=cuda --set train.threads=1 "${sets[@]}" > .gpu/logs/$name.log 2>&1
  echo "$name rc=$?"
}
start=$(date +%s)
if [ "${1:-}" = signal ]; then  # the fields + signal arm of every dataset that lamar_gpu_signal.py prepared
  for sets in .gpu/signal/*.sets; do
    data=$(basename "$sets" .sets); short=${data#amazon-}; short=${short/scientific/sci}
    mapfile -t overrides < "$sets"
    for s in 0 1 2; do
      train $short-textseq-h300e8-signal-s$s $data textseq $short-signal-base seed=$s "${overrides[@]}" &
    done
  done
else
  for s in 0 1 2; do
    train sci-textseq-h300e8-s$s amazon-scientific textseq sci-base seed=$s &
    train sci-textseq-h64e4-s$s amazon-scientific textseq sci-base seed=$s model.hidden_size=64 model.experts=4 &
    train sci-sasrec-ce-s$s amazon-scientific sasrec-ce - seed=$s &
    train office-textseq-h300e8-s$s amazon-office textseq office-base seed=$s &
    train office-sasrec-ce-s$s amazon-office sasrec-ce - seed=$s &
  done
  train sci-textseq-h128e2-s0 amazon-scientific textseq sci-base seed=0 model.hidden_size=128 model.experts=2 &
  train office-textseq-h64e4-s0 amazon-office textseq office-base seed=0 model.hidden_size=64 model.experts=4 &
fi
wait
echo "wall $(( $(date +%s) - start )) s"
tar czf "${OUT:-/tmp}/lamar_gpu.tgz" .gpu/logs .gpu/runs/*/metrics.json 2>/dev/null
ls -la "${OUT:-/tmp}"
