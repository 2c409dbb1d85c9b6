#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py) from the repository root, on a machine with CUDA; under 10 minutes.
#   bash benchmarks/gpu_check.sh [OUT.json]        (default: gpu_check.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 timeout 570 "$PY" benchmarks/gpu_check.py "${1:-gpu_check.json}"
