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
# llama-cpp-python compiles llama.cpp on first install (several minutes on 2 cores). Built for AVX2 rather
# than -march=native: a native build on Intel CPUs with AMX crashes on the first generated token. Never from
# pip's wheel cache, which may hold a native build.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"${PIP[@]}" install --no-cache-dir "llama-cpp-python==0.3.36"
"${PIP[@]}" install -e ".[dev]"
# recbole ships MovieLens-100k; its own dependency pins are obsolete, so it is installed without them.
"${PIP[@]}" install --no-deps "recbole==1.2.1"
