#!/usr/bin/env bash
# Create (or update) the project virtual environment in .venv. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch is pinned: an unpinned torch pulls a multi-GB CUDA build.
"${PIP[@]}" install "torch==2.13.0"
# llama-cpp-python compiles llama.cpp on first install (several minutes on 2 cores).
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" "${PIP[@]}" install -e ".[dev]"
# recbole ships MovieLens-100k; its own dependency pins are obsolete, so it is installed without them.
"${PIP[@]}" install --no-deps "recbole==1.2.1"
