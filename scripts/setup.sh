#!/usr/bin/env bash
# Create (or update) the project virtual environment. Safe to run any number of times.
#   PYTHON  the interpreter for a new environment (default python3.11; 3.11 to 3.13 are supported)
#   VENV    the environment's folder (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -c "import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))" 2> /dev/null; then
        echo "setup: PYTHON=$PYTHON is not a runnable Python 3.11, 3.12 or 3.13 (with pyenv, give its path:" \
             "PYTHON=\$(pyenv root)/versions/3.12.1/bin/python3.12)" >&2
        exit 2
    fi
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch is pinned: an unpinned torch pulls a multi-GB CUDA build. On Python 3.11 here it comes from local disk as a
# CPU build; elsewhere PyPI's Linux wheel is the CUDA build (about 3 GB with its nvidia packages): set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for the CPU build.
"${PIP[@]}" install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"
# llama-cpp-python compiles llama.cpp on first install (several minutes on 2 cores). Built for AVX2 rather
# than -march=native: a native build on Intel CPUs with AMX crashes on the first generated token. Never from
# pip's wheel cache, which may hold a native build; our own build is kept, keyed by its flags, and serves every
# Python version (the wheel is py3-none: llama.cpp is loaded through ctypes).
# On an AVX-512 CPU, CMAKE_ARGS with those instructions scores about 1.3x faster (docs/SCALE.md).
LLAMA="llama-cpp-python==0.3.36"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/agenticrec/wheels/$LLAMA-$(printf %s "$CMAKE_ARGS" | sha256sum | cut -c1-12)"
if ! compgen -G "$WHEELS/llama_cpp_python-*.whl" > /dev/null; then
    rm -rf "$WHEELS.partial"
    "${PIP[@]}" wheel --no-cache-dir --no-deps "$LLAMA" -w "$WHEELS.partial"
    mv -T "$WHEELS.partial" "$WHEELS"
fi
"${PIP[@]}" install "$WHEELS"/llama_cpp_python-*.whl
"${PIP[@]}" install -e ".[dev]"
# recbole ships MovieLens-100k; its own dependency pins are obsolete, so it is installed without them.
"${PIP[@]}" install --no-deps "recbole==1.2.1"
