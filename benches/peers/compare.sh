#!/usr/bin/env bash
# Side-by-side peer comparison: radix vs pyAgrum 3.3 LazyPropagation vs pgmpy 1.1
# VariableElimination on the standard networks, one thread each. One command:
#
#   benches/peers/compare.sh [--networks alarm child ...] [--pgmpy-budget SECONDS] [--no-pgmpy]
#
# Installs pyagrum and pgmpy into benches/peers/.venv (never a dependency of the Rust build),
# builds radix in release mode, checks that the three engines agree and prints a Markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import pyagrum, pgmpy" 2>/dev/null \
  || "$venv/bin/pip" install --quiet "pyagrum==3.3.1" "pgmpy==1.1.2"
(cd "$root" && cargo build --release --quiet)
# numpy's thread pools: one thread, like the engines.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec "$venv/bin/python" "$here/compare.py" --radix "$root/target/release/radix" "$@"
