#!/usr/bin/env bash
# Install and smoke-test on another Python: a fresh environment .venv-VERSION, the full install, the CLI, the
# README's Python API snippet and a fast subset of the tests. The full suite runs on 3.11 (scripts/test.sh).
# Usage: scripts/smoke.sh 3.13   (python3.13 on PATH, or pyenv's 3.13.*)
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
python="python$version"
if ! command -v "$python" > /dev/null || ! "$python" -c "" 2> /dev/null; then
    python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" 2> /dev/null | sort -V | tail -1)
fi
[ -n "$python" ] || { echo "smoke: no Python $version here" >&2; exit 2; }
export VENV=".venv-$version"
rm -rf "$VENV"
PYTHON="$python" bash scripts/setup.sh
"$VENV/bin/python" --version
"$VENV/bin/agenticrec" --help > /dev/null
# the README's snippet is run by tests/test_python_api.py; the engine, torch and the data layer by the rest
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/test_python_api.py tests/test_config.py tests/data \
    tests/test_metrics.py tests/test_provenance.py tests/llm/test_embedded.py tests/test_sasrec.py -k "not refit"
