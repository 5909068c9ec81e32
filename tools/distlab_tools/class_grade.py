"""./lab class grade: notebook 07's steps graded by running each learner's own notebook, as
that learner (issue 25).

A learner's protocol is their code: grading it runs it. So it runs as the learner's own system
user (class_users.account), never as root or the hub's user, in a control group of its own
with the memory and CPU limits their server has (classroom.limit_self, entered before the
process drops to the learner, so nothing it starts escapes the limits), with the learner's
environment (the shared toolchain, their HOME and cargo). Without one system user per learner
(./lab class not run as root) there is no one to run it as, and grading refuses.

What runs, as the learner: their saved 07-your-own-node.ipynb, every code cell in order, in the
class's Rust kernel (distlab_tools.run_notebooks.execute), in memory: their file is read, never
written. The verdicts are read from the check cells' outputs by class_report.checks_of, the
same reading as for saved outputs, and sent back as one line of JSON on standard output.
Root reads at most MAX_OUTPUT bytes of it, keeps only the fields it expects, and writes
CLASS_DIR/grades/NAME.json (folder 0700, files 0600), which ./lab class report shows beside
the verdicts the learner saved.

    ./lab class grade [--dir DIR] [--learner NAME ...] [--mem SIZE] [--cpus N] [--timeout S]
"""
import datetime
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import time

from . import ROOT, class_report, class_users, classroom

NOTEBOOK = "07-your-own-node.ipynb"
MAX_OUTPUT = 1 << 20
TIMEOUT_S = 900


def run_as_learner(path):
    """In the learner's process: runs their notebook and prints one line of JSON."""
    import nbformat

    from .run_notebooks import execute

    started = time.monotonic()
    result = {"user": pwd.getpwuid(os.getuid()).pw_name, "uid": os.getuid()}
    try:
        with open("/proc/self/cgroup") as f:
            result["cgroup"] = f.read().strip()
    except OSError:
        result["cgroup"] = ""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # any unreadable notebook is a verdict, not a crash
        result["problem"] = f"could not read {os.path.basename(path)}: {type(e).__name__}: {e}"[:500]
        print(json.dumps(result))
        return 0
    execute(nb, os.path.dirname(path))
    code = [c for c in nb.cells if c.get("cell_type") == "code"]
    result["cells"] = len(code)
    result["errors"] = sum(1 for c in code for o in c.get("outputs", []) if o.get("output_type") == "error")
    result["checks"] = {str(k): v for k, v in class_report.checks_of(code).items()}
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    return 0


def clean(raw):
    """Only the fields and types a grade has: what the learner's process printed is theirs."""
    def num(v):
        return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**9 else None

    def text(v, n=300):
        return v[:n] if isinstance(v, str) else None
    out = {"user": text(raw.get("user"), 64), "uid": num(raw.get("uid")), "cgroup": text(raw.get("cgroup"), 500),
           "cells": num(raw.get("cells")), "errors": num(raw.get("errors")), "problem": text(raw.get("problem"), 500),
           "seconds": raw.get("seconds") if isinstance(raw.get("seconds"), (int, float)) else None, "checks": {}}
    checks = raw.get("checks") if isinstance(raw.get("checks"), dict) else {}
    for step, c in list(checks.items())[:10]:
        if not (isinstance(step, str) and step.isdigit() and isinstance(c, dict)):
            continue
        seeds = c.get("seeds")
        search = c.get("search")
        out["checks"][step] = {
            "title": text(c.get("title")),
            "seeds": [num(seeds[0]), num(seeds[1])] if isinstance(seeds, list) and len(seeds) == 2 else None,
            "search": [text(search[0], 20), text(search[1])] if isinstance(search, list) and len(search) == 2 else None,
        }
    return out


def grade(class_dir, name, mem, cpus, timeout=TIMEOUT_S):
    """Runs `name`'s notebook 07 as them, limited; returns the grade (a dict) and writes it."""
    pw = pwd.getpwnam(class_users.account(name))
    path = os.path.join(pw.pw_dir, "distlab", "notebooks", NOTEBOOK)
    group = f"{name}.grade"
    try:
        dirs = classroom.make_group(group, mem, cpus)
        limits = f"memory {mem / 2**30:.1f} GiB, {cpus:g} CPU"
    except OSError as e:
        dirs, limits = [], f"no limits on this machine ({e})"
    env = dict(class_users.learner_env(class_dir), HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name,
               CARGO_HOME=os.path.join(pw.pw_dir, ".cargo"), PYTHONPATH=os.path.join(ROOT, "tools"),
               JUPYTER_PATH=os.path.join(class_dir, "jupyter"), DISTLAB_CLASS_DIR=class_dir)

    def enter():  # in the child, still root: into the group, then the learner for good
        for d in dirs:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write("0")
        os.setsid()
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    python = class_users.toolchain_paths(class_dir)["python"]
    started = time.monotonic()
    proc = subprocess.Popen([python, "-m", "distlab_tools.class_grade", "run-as-learner", path],
                            cwd=pw.pw_dir, env=env, preexec_fn=enter, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raw = {"problem": f"stopped after {timeout} s"}
    else:
        line = out[-MAX_OUTPUT:].decode("utf-8", "replace").strip().splitlines()
        try:
            raw = json.loads(line[-1]) if line else {}
            raw = raw if isinstance(raw, dict) else {}
        except json.JSONDecodeError:
            raw = {}
        if not raw:
            raw = {"problem": f"the run printed no grade (exit {proc.returncode}): "
                   + err[-400:].decode("utf-8", "replace").strip()}
    finally:
        classroom.release(group)  # the kernel it started, if anything is left
    result = clean(raw)
    result.update(learner=name, limits=limits, wall_seconds=round(time.monotonic() - started, 1),
                  graded=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    out_dir = os.path.join(class_dir, "grades")
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    os.chmod(out_dir, 0o700)
    class_report.write_file(os.path.join(out_dir, f"{name}.json"), json.dumps(result, indent=1, sort_keys=True) + "\n")
    return result


def parse_size(text):
    """Bytes of a size as ./lab class --mem takes it (512M, 2G; K, M, G or T: powers of 1024,
    as JupyterHub reads mem_limit); ValueError otherwise."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KMGT])", text)
    if not m:
        raise ValueError(text)
    return int(float(m.group(1)) * 1024 ** ("KMGT".index(m.group(2)) + 1))


def passed(result):
    return sum(1 for c in result.get("checks", {}).values()
               if class_report.step_passed({"seeds": tuple(c["seeds"]) if c.get("seeds") else None,
                                            "search": tuple(c["search"]) if c.get("search") else None}))


USAGE = """usage: ./lab class grade [--dir DIR] [--learner NAME ...] [--mem SIZE] [--cpus N] [--timeout S]
  --dir DIR        the class's state (default: .class in the project)
  --learner NAME   grade this learner (again for more; default: every learner with a folder)
  --mem SIZE, --cpus N   the limits of each run: give the values ./lab class was started with
                   (default: 2G and 1, as ./lab class's)
  --timeout S      stop one learner's run after S seconds (default: 900)
Runs each learner's saved notebook 07 as that learner (as root only), one learner at a time,
and writes CLASS_DIR/grades/NAME.json, which ./lab class report shows."""


def main(args):
    if len(args) == 2 and args[0] == "run-as-learner":
        return run_as_learner(args[1])
    options, done = classroom.parse_options(
        args, {"--dir": os.path.join(ROOT, ".class"), "--mem": "2G", "--cpus": "1", "--timeout": str(TIMEOUT_S)},
        "./lab class grade", USAGE, repeat=("--learner",))
    if done is not None:
        return done
    names = options["--learner"]
    if os.geteuid() != 0:
        print("./lab class grade runs each learner's code as that learner's own system user, which only "
              "root can switch to; it never runs a learner's code as you. Run it as root, on a class "
              "started as root (one system user per learner).", file=sys.stderr)
        return 1
    class_dir = os.path.abspath(options["--dir"])
    try:
        mem, cpus = parse_size(options["--mem"]), float(options["--cpus"])
        timeout = int(options["--timeout"])
        if not (0 < cpus <= os.cpu_count() and 0 < timeout and mem >= 256 * 2**20):
            raise ValueError
    except ValueError:
        print(f"./lab class grade: --mem {options['--mem']} --cpus {options['--cpus']} --timeout {options['--timeout']}: "
              f"give a memory of 256M or more, 0 < cpus <= {os.cpu_count()}, a timeout in whole seconds", file=sys.stderr)
        return 2
    known = {pw.pw_gecos[len(class_users.COMMENT) + 1:]: pw for pw in class_users.learners(class_dir)}
    for name in names:
        if name not in known:
            print(f"./lab class grade: no learner {name!r} in {class_dir} (learners with a system user: "
                  f"{', '.join(sorted(known)) or 'none yet'})", file=sys.stderr)
            return 2
    for name in names or sorted(known):
        r = grade(class_dir, name, mem, cpus, timeout)
        verdict = r["problem"] or f"{passed(r)} of 5 steps passed ({r['errors']} cells with errors)"
        print(f"  {name}: {verdict}; ran as {r['user']} in {r['wall_seconds']} s ({r['limits']})")
    print(f"distlab: grades in {os.path.join(class_dir, 'grades')}; ./lab class report shows them")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
