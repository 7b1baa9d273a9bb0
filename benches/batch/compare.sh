#!/usr/bin/env bash
# The cost of `radix batch` per case against the per-query figure, on one cohort.
#
#   benches/batch/compare.sh [CASES] [RUNS] [QUERY_CASES]   (default 20000 cases, 5 runs, 1000)
#
# Generates a seeded cohort of CASES clinical cases (the age band and 4 random findings at
# random states, as JSON Lines), then RUNS times, side by side: `radix batch --threads 1` on it
# (CPU time, writing the JSON lines to a file included), the same with --origins-only (lines
# without every variable's posterior), and `radix bench` on the cohort's first QUERY_CASES
# cases (the median time of one query, all posteriors and P(evidence), with the pattern's tree
# compiled; the cases are drawn alike, so a thousand give about the cohort's median, and the
# query is timed within a second of the batch: this machine changes speed within seconds). Prints
# each run's per-case figures and ratio, the medians, and the best of the runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
CASES=${1:-20000}
RUNS=${2:-5}
QUERY_CASES=${3:-1000}
cargo build --release --quiet
RADIX=target/release/radix
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 - "$CASES" > "$DIR/cases.jsonl" <<'PY'
import json, random, sys, tomllib
model = tomllib.load(open("models/hip_leg_pain.toml", "rb"))
variables = model["variable"]
age = next(v for v in variables if v["id"] == "age_band")
findings = [v for v in variables if v["role"] == "finding"]
rng = random.Random(20261124)
for i in range(int(sys.argv[1])):
    evidence = {"age_band": rng.choice(age["states"])}
    for v in rng.sample(findings, 4):
        evidence[v["id"]] = rng.choice(v["states"])
    print(json.dumps({"id": i, "evidence": evidence}))
PY
head -n "$QUERY_CASES" "$DIR/cases.jsonl" > "$DIR/query.jsonl"
python3 - "$RADIX" "$DIR" "$CASES" "$RUNS" <<'PY'
import json, os, statistics, subprocess, sys
radix, d, cases, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def cpu(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    assert status == 0, cmd
    return ru.ru_utime + ru.ru_stime
def batch_us(*extra):
    # The previous run's output is removed first: freeing its pages is not a cost per case.
    if os.path.exists(f"{d}/out.jsonl"):
        os.remove(f"{d}/out.jsonl")
    t = cpu([radix, "batch", "models/hip_leg_pain.toml", "--cases", f"{d}/cases.jsonl",
             "--threads", "1", "--out", f"{d}/out.jsonl", *extra])
    return t / cases * 1e6
batch, lean, query = [], [], []
for r in range(runs):
    batch.append(batch_us())
    out = subprocess.run([radix, "bench", "models/hip_leg_pain.toml", "--scenarios",
                          f"{d}/query.jsonl", "--repeat", "3", "--json"],
                         capture_output=True, text=True, check=True).stdout
    query.append(json.loads(out)["median_warm_us"])
    lean.append(batch_us("--origins-only"))
    print(f"run {r + 1}: batch {batch[-1]:.1f} µs/case (CPU, start-up included), "
          f"--origins-only {lean[-1]:.1f} µs/case, query {query[-1]:.1f} µs, "
          f"ratios {batch[-1] / query[-1]:.2f} and {lean[-1] / query[-1]:.2f}", flush=True)
m = statistics.median
print(f"median: batch {m(batch):.1f} µs/case, --origins-only {m(lean):.1f} µs/case, "
      f"query {m(query):.1f} µs, ratios {m(b / q for b, q in zip(batch, query)):.2f} "
      f"and {m(b / q for b, q in zip(lean, query)):.2f}")
# On a shared machine, other work only ever adds time: the best of the runs is the figure
# least disturbed, and its ratio the one to compare across runs of this script.
print(f"best: batch {min(batch):.1f} µs/case, --origins-only {min(lean):.1f} µs/case, "
      f"query {min(query):.1f} µs, ratios {min(batch) / min(query):.2f} "
      f"and {min(lean) / min(query):.2f}")
PY
