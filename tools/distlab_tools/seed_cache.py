"""Fills the class's seed of evcxr's cache: runs the lesson's first cell (`:dep distlab`) once
in the real kernel, so plotters, rand and serde are compiled once for the whole class.
Each learner's cache then starts as hard links to it (distlab_tools.evcxr_cache).

Usage: seed_cache.py CLASS_DIR. Does nothing when the seed matches the project's Cargo.lock,
kernel options, evcxr and rustc; otherwise builds it again (about 30 s on 2 cores).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

import nbformat

from . import ROOT, class_users, classroom
from .run_notebooks import execute, problems


def seed_stamp(root, extra):
    """What the seed cache depends on: the lock file (dependency versions), the kernel's
    start-up options (:opt) and `extra` (the kernel's and rustc's versions)."""
    digest = hashlib.sha256(extra.encode())
    for part in ("Cargo.toml", "Cargo.lock", os.path.join("tools", "evcxr", "init.evcxr")):
        with open(os.path.join(root, part), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def versions():
    out = []
    for cmd in (["evcxr_jupyter", "--version"], ["rustc", "-V"]):
        try:
            out.append(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError) as e:
            out.append(f"{cmd[0]}: {e}")
    return "\n".join(out)


def up_to_date(seed, stamp_file, stamp):
    try:
        with open(stamp_file) as f:
            return os.path.isdir(seed) and f.read() == stamp
    except OSError:
        return False


def main(class_dir):
    cache_home = os.path.join(class_dir, "cache")
    seed = os.path.join(cache_home, "evcxr")
    stamp_file = os.path.join(cache_home, "seed.stamp")
    per_learner = os.geteuid() == 0
    if per_learner:
        # Learners as system users of their own (class_users): their cargo reads the class's
        # vendored crates, whose paths are part of evcxr's cache key, so the seed is built so too.
        paths = class_users.toolchain_paths(class_dir)
        os.environ["PATH"] = os.pathsep.join([paths["rust_bin"], paths["bin"], os.environ["PATH"]])
        os.environ["CARGO_HOME"] = os.path.join(class_dir, "seed-cargo")
        os.makedirs(os.environ["CARGO_HOME"], exist_ok=True)
        with open(os.path.join(os.environ["CARGO_HOME"], "config.toml"), "w") as f:
            f.write(class_users.cargo_config(class_dir))
    extra = f"\nper-learner users: {per_learner}\n"
    if per_learner:
        with open(os.path.join(paths["dir"], class_users.STAMP)) as f:
            extra += f.read()  # the vendored crates' paths are in evcxr's cache keys
    stamp = seed_stamp(ROOT, versions() + extra)
    if up_to_date(seed, stamp_file, stamp):
        print(f"    evcxr's seed cache is up to date ({seed})")
        return 0
    print("    Compiling distlab's dependencies once for the whole class (about 30 s)")
    shutil.rmtree(cache_home, ignore_errors=True)
    work = os.path.join(class_dir, "seed-home")
    shutil.rmtree(work, ignore_errors=True)
    classroom.prepare_home(work, ROOT)
    os.environ["XDG_CACHE_HOME"] = cache_home  # evcxr's cache: $XDG_CACHE_HOME/evcxr
    # The class's kernel, as its learners get it (registered by ./lab class before this runs).
    os.environ["JUPYTER_PATH"] = os.path.join(class_dir, "jupyter")
    first = nbformat.read(os.path.join(ROOT, "notebooks", "00-start-here.ipynb"), as_version=4)
    code = [cell for cell in first.cells if cell.cell_type == "code"][:1]
    nb = nbformat.v4.new_notebook(cells=code)
    started = time.monotonic()
    execute(nb, os.path.join(work, "distlab", "notebooks"))
    bad = problems(nb)
    if bad or not os.path.isdir(seed):
        print(f"error: the seed run failed: {bad or 'evcxr wrote no cache in ' + seed}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    os.chmod(cache_home, 0o755)
    with open(stamp_file, "w") as f:
        f.write(stamp)
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(seed) for n in names)
    print(f"    seed cache: {size / 2**20:.0f} MB in {time.monotonic() - started:.0f} s ({seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
