#!/usr/bin/env python3
"""Side-by-side peer comparison: radix, pyAgrum LazyPropagation and pgmpy VariableElimination.

For each network of tests/data/bn and its scenarios in tests/data/bn/reference, every engine sets
the scenario's evidence and computes the posterior of every unobserved variable. The script checks
that the three agree, and prints one table: network, variables, clique entries, radix µs per
scenario (warm: the tree for the scenario's observed variables already compiled, as in what-if
sweeps and batch cohorts; cold: the first query of the scenario's pattern of observed variables), pyAgrum µs and ratios, pgmpy ms
and ratio, peak memory.

Every engine runs single-threaded, each network in its own process (so peak memory is per
network). pyAgrum's BIF loader rounds numbers to float32, so pyAgrum and pgmpy are given float64
tables from this script's own parse, with every row divided by its sum, as radix does.

With --rounds N each network is measured N times, the three engines taking turns, and each
engine's fastest round is kept: on a machine with slow spells (a shared VM), one round's ratios
depend on which engine a spell fell on.

Run it through compare.sh, which makes the virtual environment.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "bn")
NETWORKS = ["alarm", "child", "insurance", "hepar2", "win95pts", "water", "mildew", "barley", "pigs", "munin2"]


# --------------------------------------------------------------------------------------------
# A float64 BIF parser for the bnlearn dialect (variable blocks, probability blocks with
# `table` or per-configuration rows).

def parse_bif(path):
    text = open(path).read()
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    states = {}
    order = []
    for m in re.finditer(r"variable\s+(\S+)\s*\{[^}]*?\{([^}]*)\}", text):
        name = m.group(1)
        states[name] = [s.strip() for s in m.group(2).split(",") if s.strip()]
        order.append(name)
    cpts = {}
    for m in re.finditer(r"probability\s*\(\s*([^)]*)\)\s*\{(.*?)\}", text, flags=re.S):
        head = m.group(1)
        if "|" in head:
            child, parents = head.split("|")
            parents = [p.strip() for p in parents.split(",") if p.strip()]
        else:
            child, parents = head, []
        child = child.strip()
        body = m.group(2)
        k = len(states[child])
        rows = {}
        table = re.search(r"table\s+([^;]*);", body)
        if table:
            values = [float(x) for x in re.split(r"[\s,]+", table.group(1).strip()) if x]
            if parents:
                n = len(values) // k
                for j in range(n):
                    rows[j] = [values[i * n + j] for i in range(k)]
            else:
                rows[0] = values
        for r in re.finditer(r"\(([^)]*)\)\s*([^;]*);", body):
            key = tuple(s.strip() for s in r.group(1).split(","))
            values = [float(x) for x in re.split(r"[\s,]+", r.group(2).strip()) if x]
            index = 0
            for p, s in zip(parents, key):
                index = index * len(states[p]) + states[p].index(s)
            rows[index] = values
        n_configs = 1
        for p in parents:
            n_configs *= len(states[p])
        table_rows = []
        for j in range(n_configs):
            row = rows[j]
            total = sum(row)
            table_rows.append([x / total for x in row])
        cpts[child] = (parents, table_rows)
    return order, states, cpts


def configurations(parents, states):
    """Parent state tuples in row-major order (last parent fastest)."""
    if not parents:
        yield ()
        return
    import itertools
    yield from itertools.product(*[states[p] for p in parents])


def load_scenarios(name):
    with open(os.path.join(DATA, "reference", name + ".json")) as f:
        return json.load(f)["scenarios"]


def max_diff(a, b):
    """Largest absolute difference between two {var: {state: p}} maps."""
    worst = 0.0
    for var, dist in a.items():
        for state, p in dist.items():
            worst = max(worst, abs(p - b[var][state]))
    return worst


# --------------------------------------------------------------------------------------------
# Workers: each runs in its own process and prints one JSON line.

def work_pyagrum(name, repeat):
    import pyagrum as gum

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    order, states, cpts = parse_bif(os.path.join(DATA, name + ".bif"))
    bn = gum.BayesNet(name)
    for v in order:
        bn.add(gum.LabelizedVariable(v, v, states[v]))
    for v in order:
        for p in cpts[v][0]:
            bn.addArc(p, v)
    for v in order:
        parents, rows = cpts[v]
        cpt = bn.cpt(v)
        if not parents:
            cpt.fillWith(rows[0])
            continue
        for config, row in zip(configurations(parents, states), rows):
            cpt[dict(zip(parents, config))] = row
    scenarios = load_scenarios(name)
    ie = gum.LazyPropagation(bn)
    if hasattr(ie, "setNumberOfThreads"):
        ie.setNumberOfThreads(1)
    ie.addAllTargets()
    times = []
    posteriors = []
    for sc in scenarios:
        ev = sc["evidence"]
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            ie.eraseAllEvidence()
            if ev:
                ie.setEvidence(ev)
            ie.makeInference()
            samples.append(time.perf_counter() - t)
        times.append(statistics.median(samples) * 1e6)
        post = {}
        for v in order:
            if v in ev:
                continue
            p = ie.posterior(v)
            post[v] = {s: p[{v: s}] for s in states[v]}
        posteriors.append(post)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"times_us": times, "posteriors": posteriors, "peak_kib": peak, "baseline_kib": baseline}))


def work_pgmpy(name, budget):
    import logging
    logging.disable(logging.WARNING)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    try:
        from pgmpy.models import DiscreteBayesianNetwork as Model
    except ImportError:
        from pgmpy.models import BayesianNetwork as Model

    order, states, cpts = parse_bif(os.path.join(DATA, name + ".bif"))
    model = Model([(p, v) for v in order for p in cpts[v][0]])
    model.add_nodes_from(order)
    for v in order:
        parents, rows = cpts[v]
        values = [[row[i] for row in rows] for i in range(len(states[v]))]
        cpd = TabularCPD(
            v,
            len(states[v]),
            values,
            evidence=parents or None,
            evidence_card=[len(states[p]) for p in parents] or None,
            state_names={u: states[u] for u in [v] + parents},
        )
        model.add_cpds(cpd)
    infer = VariableElimination(model)
    scenarios = load_scenarios(name)
    times = []
    posteriors = []
    start = time.perf_counter()
    for sc in scenarios:
        if time.perf_counter() - start > budget and times:
            break
        ev = sc["evidence"]
        t = time.perf_counter()
        post = {}
        for v in order:
            if v in ev:
                continue
            f = infer.query([v], evidence=ev, show_progress=False)
            post[v] = {s: float(f.get_value(**{v: s})) for s in states[v]}
            if time.perf_counter() - t > budget:
                break
        elapsed = time.perf_counter() - t
        if len(post) < sum(1 for v in order if v not in ev):
            times.append(None)
            break
        times.append(elapsed * 1e3)
        posteriors.append(post)
    print(json.dumps({"times_ms": times, "posteriors": posteriors}))


# --------------------------------------------------------------------------------------------
# The driver.

def run_child(args):
    """Runs a command; returns (stdout, peak RSS in KiB of that process)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(r.stdout)\n"
        "print('@@rss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n"
    )
    r = subprocess.run([sys.executable, "-c", wrapper] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{r.stderr[-2000:]}")
    out, _, rss = r.stdout.rpartition("@@rss")
    return out, int(rss.strip())


def measure(args, name, bif, ref, post_file):
    """One round on one network: radix, then pyAgrum, then pgmpy, each in a process of its own."""
    out, radix_rss = run_child([args.radix, "bench", bif, "--scenarios", ref, "--json",
                                "--repeat", str(args.repeat), "--posteriors-out", post_file])
    radix = json.loads(out)
    with open(post_file) as f:
        radix_post = [s["posteriors"] for s in json.load(f)["scenarios"]]
    out, agrum_rss = run_child([sys.executable, __file__, "--worker", "pyagrum", name,
                                "--repeat", str(args.repeat)])
    agrum = json.loads(out)
    diff_agrum = max(max_diff(a, b) for a, b in zip(radix_post, agrum["posteriors"]))
    row = {
        "network": name,
        "variables": radix["variables"],
        "entries": radix["median_entries"],
        "radix_warm_us": radix["median_warm_us"],
        "radix_cold_us": radix["median_cold_us"],
        "radix_prepare_ms": radix["prepare_ms"],
        "ns_per_entry": radix["ns_per_entry"],
        "pyagrum_us": statistics.median(agrum["times_us"]),
        "radix_peak_mib": radix_rss / 1024,
        "pyagrum_peak_mib": agrum_rss / 1024,
        "pyagrum_extra_mib": (agrum["peak_kib"] - agrum["baseline_kib"]) / 1024,
        "max_diff_pyagrum": diff_agrum,
    }
    if not args.no_pgmpy:
        out, _ = run_child([sys.executable, __file__, "--worker", "pgmpy", name,
                            "--pgmpy-budget", str(args.pgmpy_budget)])
        pg = json.loads(out)
        done = [t for t in pg["times_ms"] if t is not None]
        row["pgmpy_ms"] = statistics.median(done) if done else None
        row["pgmpy_budget_s"] = args.pgmpy_budget
        row["pgmpy_scenarios"] = len(done)
        row["max_diff_pgmpy"] = max((max_diff(a, b) for a, b in zip(radix_post, pg["posteriors"])), default=None)
    return row


def best_of(rounds):
    """Each engine's fastest round (by its median per scenario); the largest memory peak and
    disagreement of all rounds."""
    radix = min(rounds, key=lambda r: r["radix_warm_us"])
    row = dict(radix)
    agrum = min(rounds, key=lambda r: r["pyagrum_us"])
    row["pyagrum_us"] = agrum["pyagrum_us"]
    for key in ["radix_peak_mib", "pyagrum_peak_mib", "pyagrum_extra_mib", "max_diff_pyagrum"]:
        row[key] = max(r[key] for r in rounds)
    if "pgmpy_ms" in radix:
        timed = [r for r in rounds if r["pgmpy_ms"] is not None]
        if timed:
            pg = min(timed, key=lambda r: r["pgmpy_ms"])
            row["pgmpy_ms"], row["pgmpy_scenarios"] = pg["pgmpy_ms"], pg["pgmpy_scenarios"]
        row["max_diff_pgmpy"] = max((r["max_diff_pgmpy"] for r in rounds
                                     if r["max_diff_pgmpy"] is not None), default=None)
    row["rounds"] = len(rounds)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--radix", default=os.path.join(ROOT, "target", "release", "radix"))
    ap.add_argument("--networks", nargs="*", default=NETWORKS)
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions per scenario (median kept)")
    ap.add_argument("--pgmpy-budget", type=float, default=60.0, help="seconds of pgmpy per network")
    ap.add_argument("--no-pgmpy", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each network this many times, the engines taking turns, and keep "
                         "each engine's fastest round (a machine with slow spells otherwise decides "
                         "the ratios)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "NETWORK"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        engine, name = args.worker
        if engine == "pyagrum":
            work_pyagrum(name, args.repeat)
        else:
            work_pgmpy(name, args.pgmpy_budget)
        return

    import pyagrum
    import pgmpy
    print(f"radix {args.radix}; pyAgrum {pyagrum.__version__}; pgmpy {pgmpy.__version__}; "
          f"{os.cpu_count()} cores; one thread per engine", flush=True)
    results = []
    for name in args.networks:
        bif = os.path.join(DATA, name + ".bif")
        ref = os.path.join(DATA, "reference", name + ".json")
        post_file = f"/tmp/radix-compare-{name}.json"
        rounds = [measure(args, name, bif, ref, post_file) for _ in range(max(1, args.rounds))]
        row = best_of(rounds)
        results.append(row)
        print_row(row, header=len(results) == 1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    bad = [r["network"] for r in results
           if r["max_diff_pyagrum"] > 1e-9 or (r.get("max_diff_pgmpy") or 0) > 1e-9]
    if bad:
        print(f"DISAGREEMENT above 1e-9 on: {', '.join(bad)}")
        sys.exit(1)
    print("All engines agree within 1e-9 on every compared scenario.")


def print_row(r, header):
    if header:
        print()
        print("| network | vars | clique entries | radix µs (warm) | radix µs (cold) | pyAgrum µs | "
              "ratio warm | ratio cold | pgmpy ms | pgmpy ratio (warm) | ns/entry | "
              "peak MiB radix | peak MiB pyAgrum (+over Python) | max diff |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    pg = r.get("pgmpy_ms")
    pg_cell = "—" if "pgmpy_ms" not in r else (f"> {r['pgmpy_budget_s']:.0f} s" if pg is None else f"{pg:,.1f} ({r['pgmpy_scenarios']})")
    pg_ratio = "—" if not pg else f"{pg * 1e3 / r['radix_warm_us']:,.0f}×"
    diff = max(r["max_diff_pyagrum"], r.get("max_diff_pgmpy") or 0.0)
    print(f"| {r['network']} | {r['variables']} | {r['entries']:,.0f} | {r['radix_warm_us']:,.1f} | "
          f"{r['radix_cold_us']:,.1f} | {r['pyagrum_us']:,.1f} | {r['pyagrum_us'] / r['radix_warm_us']:,.1f}× | "
          f"{r['pyagrum_us'] / r['radix_cold_us']:,.1f}× | {pg_cell} | {pg_ratio} | {r['ns_per_entry']:.2f} | "
          f"{r['radix_peak_mib']:,.0f} | {r['pyagrum_peak_mib']:,.0f} (+{r['pyagrum_extra_mib']:,.0f}) | "
          f"{diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
