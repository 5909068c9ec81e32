#!/usr/bin/env python3
"""The storm benchmark side by side: this tree against an earlier commit, in one run.

    .venv/bin/python -m distlab_tools.compare_storm --base <commit> [--runs 7]

Builds `examples/storm.rs` in release for both (the base from `git archive`, in
/tmp/distlab-base-<commit>), then runs them alternately, so a change in the machine's speed
hits both alike. Prints the median messages/s of 1,000 nodes and 1,000,000 messages at loss
0.05 (trace off), and the memory per message in flight: the extra peak RSS of a 4,000,000
message run (about 4x as many in flight) over the 1,000,000 message run, divided by the
extra messages in flight at the peak. That extra RSS includes whatever the workload's own input
grew by: the storm draws every send time before it runs. Builds before the protocol seam kept
them sorted, 4 bytes a message (a `Vec<u32>` collected from a sized iterator); later builds
report `input_bytes`, a fixed 2 MB for large storms. The second figure takes the input out.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from . import ROOT


def build(tree, target):
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "storm"],
        cwd=tree, check=True, env={**os.environ, "CARGO_TARGET_DIR": target},
    )
    return os.path.join(target, "release", "examples", "storm")


def storm(binary, messages):
    out = subprocess.run(
        [binary, "--nodes", "1000", "--messages", str(messages), "--loss", "0.05", "--seed", "1"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the commit to compare against")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    rev = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    base_tree = f"/tmp/distlab-base-{rev}"
    if not os.path.isdir(base_tree):
        os.makedirs(base_tree)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", base_tree], input=archive, check=True)
    binaries = {
        f"base {rev}": build(base_tree, os.path.join(base_tree, "target")),
        "this tree": build(ROOT, os.path.join(ROOT, "target")),
    }
    speed = {name: [] for name in binaries}
    memory = {name: [] for name in binaries}
    engine = {name: [] for name in binaries}
    for _ in range(args.runs):
        for name, binary in binaries.items():
            small, large = storm(binary, 1_000_000), storm(binary, 4_000_000)
            speed[name].append(small["msgs_per_s"])
            extra_bytes = (large["peak_rss_mb"] - small["peak_rss_mb"]) * 1024 * 1024
            extra_flight = large["peak_in_flight"] - small["peak_in_flight"]
            memory[name].append(extra_bytes / extra_flight)
            workload = large.get("input_bytes", 4 * 4_000_000) - small.get("input_bytes", 4 * 1_000_000)
            engine[name].append((extra_bytes - workload) / extra_flight)
            counts = (small["delivered"], small["dropped"], small["peak_in_flight"], large["peak_in_flight"])
    print(f"storm: 1000 nodes, loss 0.05, seed 1, trace off; {args.runs} alternating runs each")
    print(f"{'build':<16} {'median msgs/s (1M)':>20} {'range':>24} {'bytes/msg in flight':>20} "
          f"{'without the workload':>21}")
    for name in binaries:
        s = speed[name]
        print(f"{name:<16} {statistics.median(s):>20,.0f} {min(s):>11,.0f}-{max(s):<12,.0f} "
              f"{statistics.median(memory[name]):>20.0f} {statistics.median(engine[name]):>21.0f}")
    ratio = statistics.median(speed["this tree"]) / statistics.median(speed[f"base {rev}"])
    print(f"this tree / base: {ratio:.2f}x messages/s")
    print(f"last run (this tree): delivered, dropped, peak in flight 1M, 4M = {counts}")


if __name__ == "__main__":
    sys.exit(main())
