#!/usr/bin/env bash
# jaxnn on one GPU, in one command (about 8 minutes at most): a fresh virtual environment with
# jaxnn[cuda] installed from this checkout, then benchmarks/gpu_bench.py (the book MLP epoch, a
# sweep of 1,024 networks against the GPU's memory-bandwidth floor, the two-conv net's epoch, and
# time to 99% from a cold process). Writes OUT/results.json and OUT/results.md.
#
#   benchmarks/gpu.sh [--out DIR] [--python PYTHON]     # on a machine with an NVIDIA GPU
#   benchmarks/gpu.sh --cpu-dry-run [--out DIR]        # on the CPU, small sizes, no CUDA install,
#                                                       # with the Python already in use (a check)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/gpu-results"
PYTHON="${PYTHON:-python3}"
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-dry-run) DRY=1 ;;
    --out) OUT="$2"; shift ;;
    --python) PYTHON="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown option $1 (use --cpu-dry-run, --out DIR, --python PYTHON)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
start=$(date +%s)
if [ "$DRY" = 1 ]; then
  # No install: the checkout's jaxnn with the current interpreter, on the CPU.
  export JAX_PLATFORMS=cpu PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  "$PYTHON" "$ROOT/benchmarks/gpu_bench.py" --out "$OUT" --small
else
  VENV="$OUT/venv"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "$ROOT[cuda]"
  "$VENV/bin/python" -c "import jax; d = jax.devices(); print(d); assert d[0].platform == 'gpu', 'no GPU found'"
  (cd "$OUT" && "$VENV/bin/python" "$ROOT/benchmarks/gpu_bench.py" --out "$OUT")
fi
echo "gpu.sh: $(( $(date +%s) - start )) s; results in $OUT/results.json and $OUT/results.md"
