#!/usr/bin/env bash
# Set up the environment and run the main job on the embedded default data (no server, key or download).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/agenticrec quickstart "$@"
