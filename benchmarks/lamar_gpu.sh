#!/usr/bin/env bash
# LaMAR's models on one GPU: textseq at the paper size (hidden 300, 8 experts) and at CPU sizes, and SASRec-CE, on
# Scientific and Office (item fields only; early stopping, patience 10, no time budget), 17 runs at once. Every
# metrics.json and log come back in one tarball, which `benchmarks/lamar_models.py --runs` reads. Prepare and run:
#   bash ../shared/gpu/prepare.sh amazon-scientific:textseq:sci-base amazon-office:textseq:office-base
#   cp benchmarks/lamar_gpu.sh .gpu/ && (on the GPU machine, .gpu carried) bash .gpu/lamar_gpu.sh
set -u
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH="$PWD/.gpu/src:/tmp/site" AGENTICREC_DATA_DIR="$PWD/.gpu/data" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi -L; mkdir -p .gpu/logs
train() {  # NAME DATASET MODEL SETTINGS...
  local name=$1 data=$2 model=$3 base; shift 3
  case $data in amazon-scientific) base=sci-base ;; *) base=office-base ;; esac
  mkdir -p .gpu/runs/$name
  [ "$model" = textseq ] && cp -r .gpu/runs/$base/cache .gpu/runs/$name/
  local sets=(); for s in "$@"; do sets+=(--set "$s"); done
  timeout 470 python3 -m agenticrec train --data $data --model $model --run-dir .gpu/runs/$name \
    --set train.device=cuda --set train.threads=1 "${sets[@]}" > .gpu/logs/$name.log 2>&1
  echo "$name rc=$?"
}
start=$(date +%s)
for s in 0 1 2; do
  train sci-textseq-h300e8-s$s amazon-scientific textseq seed=$s &
  train sci-textseq-h64e4-s$s amazon-scientific textseq seed=$s model.hidden_size=64 model.experts=4 &
  train sci-sasrec-ce-s$s amazon-scientific sasrec-ce seed=$s &
  train office-textseq-h300e8-s$s amazon-office textseq seed=$s &
  train office-sasrec-ce-s$s amazon-office sasrec-ce seed=$s &
done
train sci-textseq-h128e2-s0 amazon-scientific textseq seed=0 model.hidden_size=128 model.experts=2 &
train office-textseq-h64e4-s0 amazon-office textseq seed=0 model.hidden_size=64 model.experts=4 &
wait
echo "wall $(( $(date +%s) - start )) s"
tar czf "${OUT:-/tmp}/lamar_gpu.tgz" .gpu/logs .gpu/runs/*/metrics.json 2>/dev/null
ls -la "${OUT:-/tmp}"
