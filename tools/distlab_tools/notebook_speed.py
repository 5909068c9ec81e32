#!/usr/bin/env python3
"""How long a learner waits: every code cell of each notebook timed in a fresh evcxr kernel.

    python -m distlab_tools.notebook_speed [NOTEBOOK...]                 this tree (default: every notebook)
    python -m distlab_tools.notebook_speed --base COMMIT [--runs 3] ...  this tree and COMMIT, alternating
    python -m distlab_tools.notebook_speed --seeds 200                   also the in-cell check of N seeds (07's
                                                          reference gossip), compile included

For each notebook it prints: the kernel's start, the first cell (`:dep distlab` and the
prelude: with a warm evcxr cache this is distlab's own build plus evcxr's start-up), the first
cell that uses the API, the median and p90 of the other code cells, and Run-All (every code
cell, first included, kernel start excluded). Cells run through jupyter_client exactly as
JupyterLab sends them; prediction cells keep their empty guess. A cell that fails is reported
and timed all the same.

With --base, the commit is unpacked once into /tmp/distlab-speed-<commit> (`git archive`) and
the two trees take turns notebook by notebook, so a change in the machine's speed hits both
alike; the last column is this tree's figure over the base's. It is a benchmark, not a test:
nothing fails on a number. Run it on a quiet machine (no build beside it): the README's table
comes from it.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from . import ROOT
from .evcxr_cache import own_cache

KERNEL = "rust"

# 07's reference gossip checked over N seeds inside a cell (the figure the issue names), as
# notebook 07 does it: through `exercises::check_reference` (compiled with distlab, optimized)
# where the tree has it, else the generic call that compiles the checker in the cell.
SEEDS_CELL = (
    "let t = std::time::Instant::now();\n"
    "let report = CALL?;\n"
    'println!("{n} seeds: {:?} inside the cell", t.elapsed());\n'
    "report"
)
SEEDS_CALLS = {  # the broadcast's reference check, as each version of the crate spells it
    "steps": "distlab::check::exercises::check_reference(4, {n})",
    "letters": "distlab::check::exercises::check_reference('b', {n})",
    "generic": "distlab::check::exercises::broadcast(distlab::check::exercises::solutions::Gossip).seeds({n}).check()",
}


def seeds_cells(tree, n):
    source = open(os.path.join(tree, "src", "check", "exercises", "mod.rs")).read()
    kind = ("steps" if "fn check_reference(step: u32" in source
            else "letters" if "fn check_reference" in source else "generic")
    call = SEEDS_CALLS[kind].replace("{n}", str(n))
    return [':dep distlab = { path = ".." }\nuse distlab::prelude::*;',
            SEEDS_CELL.replace("CALL", call).replace("{n}", str(n))]


# The storm (1,000 nodes, 1,000,000 messages at 5 % loss, trace off) run inside a cell, against
# the same workload in `cargo run --release --example storm`: how far a cell's simulation is
# from release speed.
SIM_CELLS = [
    ':dep distlab = { path = ".." }\nuse distlab::prelude::*;',
    "let config = Config::builder().nodes(1000).loss(0.05).latency(Latency::uniform(10.0, 50.0))"
    ".seed(1).trace(false).build()?;\n"
    "let mut storm_cluster = Cluster::new(config);\n"
    "let storm = distlab::experiment::Storm::new(1_000_000, 1);\n"
    "let t = std::time::Instant::now();\n"
    "storm.run(&mut storm_cluster)?;\n"
    'println!("msgs_per_s {}", 1_000_000.0 / t.elapsed().as_secs_f64());',
]


def release_storm(tree):
    """Messages per second of the same storm from the release build of examples/storm.rs."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "storm"], cwd=tree, check=True)
    out = subprocess.run([os.path.join(tree, "target", "release", "examples", "storm"), "--nodes", "1000",
                          "--messages", "1000000", "--loss", "0.05", "--seed", "1"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["msgs_per_s"]


def code_cells(path):
    nb = json.load(open(path))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def prepare_kernel(tree):
    """Registers `tree`'s own kernel inside `tree` (its .venv/share/jupyter), as `./lab setup`
    there would, with `tree`'s own code, and warms its cache; returns the JUPYTER_PATH that
    finds it. A tree from before the kernel helper gets the kernel it had: the committed
    tools/evcxr."""
    data = os.path.join(tree, ".venv", "share", "jupyter")
    package = os.path.join(tree, "tools", "distlab_tools", "evcxr_kernel.py")
    script = os.path.join(tree, "tools", "evcxr_kernel.py")
    if os.path.exists(package) or os.path.exists(script):
        # The tree's own helper: its package (PYTHONPATH names that tree's tools/, so its code
        # runs, not this tree's) or, before the package, its script.
        if os.path.exists(package):
            helper, env = ["-m", "distlab_tools.evcxr_kernel"], dict(os.environ, PYTHONPATH=os.path.join(tree, "tools"))
        else:
            helper, env = [script], dict(os.environ)
        subprocess.run([sys.executable, *helper, "install", tree], check=True, capture_output=True, env=env)
        os.environ["JUPYTER_PATH"] = data
        subprocess.run([sys.executable, *helper, "warm", tree], check=True, env=dict(env, JUPYTER_PATH=data))
    else:
        kernel_dir = os.path.join(data, "kernels", KERNEL)
        os.makedirs(kernel_dir, exist_ok=True)
        spec = {"argv": ["evcxr_jupyter", "--control_file", "{connection_file}"], "display_name": "Rust",
                "language": "rust", "interrupt_mode": "message",
                "env": {"EVCXR_CONFIG_DIR": os.path.join(tree, "tools", "evcxr")}}
        with open(os.path.join(kernel_dir, "kernel.json"), "w") as f:
            json.dump(spec, f)
    return data


def run_cells(cwd, cells, jupyter_path):
    """Seconds per cell and the kernel's start, in a new kernel started in `cwd`."""
    from jupyter_client.manager import start_new_kernel

    os.environ["JUPYTER_PATH"] = jupyter_path
    started = time.monotonic()
    km, kc = start_new_kernel(kernel_name=KERNEL, cwd=cwd, startup_timeout=900)
    kernel_start = time.monotonic() - started
    times, failures, printed = [], [], []
    try:
        for index, source in enumerate(cells):
            shown = []

            def hook(msg, shown=shown):
                if msg["msg_type"] == "stream":
                    printed.append(msg["content"]["text"])
                if msg["msg_type"] == "error":
                    shown.append(msg["content"]["evalue"])
                elif msg["msg_type"] == "stream" and "panicked at" in msg["content"]["text"]:
                    shown.append(msg["content"]["text"])

            t = time.monotonic()
            kc.execute_interactive(source, timeout=900, output_hook=hook)
            times.append(time.monotonic() - t)
            if shown:
                failures.append((index, " ".join(shown)[:200]))
    finally:
        km.shutdown_kernel(now=True)
    run_cells.printed = "".join(printed)
    return kernel_start, times, failures


def first_api_cell(cells):
    """Index of the first cell after the first that calls into distlab (a `::` path or a method)."""
    for i, source in enumerate(cells[1:], 1):
        if not source.lstrip().startswith(":") and ("::" in source or "." in source):
            return i
    return None


def summary(name, kernel_start, cells, times):
    api = first_api_cell(cells)
    rest = [t for i, t in enumerate(times) if i != 0 and i != api]
    rest.sort()
    p90 = rest[min(len(rest) - 1, int(round(0.9 * (len(rest) - 1))))] if rest else 0.0
    return {
        "notebook": name,
        "kernel_start": kernel_start,
        "first": times[0] if times else 0.0,
        "first_api": times[api] if api is not None else 0.0,
        "median": statistics.median(rest) if rest else 0.0,
        "p90": p90,
        "run_all": sum(times),
        "cells": len(times),
    }


def unpack(commit):
    rev = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = f"/tmp/distlab-speed-{rev}"
    if not os.path.isdir(tree):
        partial = tempfile.mkdtemp(prefix=f"distlab-speed-{rev}.", dir="/tmp")
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", partial], input=archive, check=True)
        os.replace(partial, tree)
    return rev, tree


def print_table(rows, label):
    print(f"\n{label}")
    print(f"{'notebook':<40} {'kernel':>7} {'first':>7} {'1st API':>8} {'median':>7} {'p90':>6} "
          f"{'Run-All':>8} {'cells':>5}")
    for r in rows:
        print(f"{r['notebook']:<40} {r['kernel_start']:>6.1f}s {r['first']:>6.1f}s {r['first_api']:>7.2f}s "
              f"{r['median']:>6.2f}s {r['p90']:>5.2f}s {r['run_all']:>7.1f}s {r['cells']:>5}")


def median_rows(runs):
    """One row per notebook: the median of each figure over the runs."""
    out = []
    for name in dict.fromkeys(r["notebook"] for r in runs):
        mine = [r for r in runs if r["notebook"] == name]
        row = {"notebook": name, "cells": mine[0]["cells"]}
        for key in ("kernel_start", "first", "first_api", "median", "p90", "run_all"):
            row[key] = statistics.median(r[key] for r in mine)
        out.append(row)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--base", help="a commit to compare against, alternating")
    ap.add_argument("--runs", type=int, default=1, help="runs of each notebook per tree (median shown)")
    ap.add_argument("--seeds", type=int, default=0, help="also time an in-cell check of N seeds")
    ap.add_argument("--sim", action="store_true",
                    help="also the storm inside a cell against `cargo run --release` (builds the example first)")
    ap.add_argument("--json", help="write every measurement here")
    args = ap.parse_args()
    own_cache(ROOT, "speed")
    names = [os.path.basename(p) for p in (args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb"))))]
    trees = {"this tree": ROOT}
    if args.base:
        rev, tree = unpack(args.base)
        trees = {f"base {rev}": tree, "this tree": ROOT}
    paths = {label: prepare_kernel(tree) for label, tree in trees.items()}
    release = {label: release_storm(tree) for label, tree in trees.items()} if args.sim else {}
    in_cell = {label: [] for label in trees}
    results = {label: [] for label in trees}
    seeds = {label: [] for label in trees}
    failed = 0
    for _ in range(args.runs):
        for name in names:
            for label, tree in trees.items():
                path = os.path.join(tree, "notebooks", name)
                if not os.path.exists(path):
                    continue
                cells = code_cells(path)
                kernel_start, times, failures = run_cells(os.path.dirname(path), cells, paths[label])
                row = summary(name, kernel_start, cells, times)
                results[label].append(row)
                print(f"{label:>16} {name:<40} Run-All {row['run_all']:6.1f} s, median cell {row['median']:.2f} s",
                      flush=True)
                for index, text in failures:
                    failed += 1
                    print(f"    code cell {index} failed: {text}")
        if args.seeds:
            for label, tree in trees.items():
                cells = seeds_cells(tree, args.seeds)
                _, times, failures = run_cells(os.path.join(tree, "notebooks"), cells, paths[label])
                seeds[label].append(times[1])
                print(f"{label:>16} check of {args.seeds} seeds in a cell: {times[1]:.2f} s "
                      f"{'(failed: ' + failures[0][1] + ')' if failures else ''}", flush=True)
        for label, tree in trees.items():
            if not args.sim:
                break
            run_cells(os.path.join(tree, "notebooks"), SIM_CELLS, paths[label])
            rate = [float(line.split()[1]) for line in run_cells.printed.splitlines() if line.startswith("msgs_per_s")]
            in_cell[label].append(rate[0] if rate else 0.0)
            print(f"{label:>16} storm in a cell: {in_cell[label][-1]:,.0f} msgs/s", flush=True)
    tables = {label: median_rows(rows) for label, rows in results.items()}
    for label, rows in tables.items():
        print_table(rows, f"{label} (median of {args.runs} run{'s' if args.runs > 1 else ''})")
        if in_cell[label]:
            cell = statistics.median(in_cell[label])
            print(f"storm (1,000 nodes, 1,000,000 messages) in a cell: {cell:,.0f} msgs/s; release build: "
                  f"{release[label]:,.0f} msgs/s; release / cell = {release[label] / max(cell, 1):.2f}x")
        if seeds[label]:
            print(f"check of {args.seeds} seeds inside a cell, compile included: "
                  f"{statistics.median(seeds[label]):.2f} s")
    if args.base:
        base_label = next(iter(trees))
        base = {r["notebook"]: r for r in tables[base_label]}
        print(f"\nthis tree / {base_label}")
        for r in tables["this tree"]:
            b = base.get(r["notebook"])
            if b:
                print(f"{r['notebook']:<40} first {r['first'] / b['first']:.2f}x  median {r['median'] / max(b['median'], 1e-9):.2f}x  "
                      f"Run-All {r['run_all'] / b['run_all']:.2f}x")
    if args.json:
        json.dump({"runs": results, "seeds": seeds}, open(args.json, "w"), indent=1)
    if failed:
        print(f"{failed} cell(s) failed (above); their times are still counted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
