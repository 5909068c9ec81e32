"""What `./lab class` does besides running JupyterHub: read the teacher's list of learners,
give each learner their own copy of the lesson, share evcxr's compiled dependencies, and
hold each learner's server to a memory and CPU limit.

Used by `jupyterhub_config.py` (the hub), `seed_cache.py` (setup) and `tests/py/test_class_hub.py`.
Plain Python: nothing here imports JupyterHub, so it can be read and tested on its own.
"""
import os
import re
import shutil
import signal
import sys
import time

import tomllib

from . import evcxr_cache
from .evcxr_kernel import write_if_changed as _write_if_changed

# JupyterHub lowercases names; these also make safe directory and cgroup names.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
# What a learner's crate directory holds besides the notebooks: the manifest below.
MANIFEST_NOTE = """\
# Written by ./lab class at every start of your server: the distlab library that the
# notebooks load with `:dep distlab = {{ path = ".." }}`. Its sources are the class's shared
# copy ({src}); your own work is in notebooks/, which is never overwritten.
"""


# `./lab notes` in a learner's folder, as the lesson tells them to type: their own notebooks,
# exported by the project's distlab_tools.export_notes with the project's Python.
LAB_SCRIPT = """\
#!/usr/bin/env bash
# Written by ./lab class at every start of your server. In the class, `./lab notes [DIR]`
# exports your notebooks, with your answers, as study notes (HTML, Markdown, PDF) into DIR
# (default: notes/ beside this file). Everything else is the teacher's.
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
if [ "${{1:-}}" = notes ]; then
    exec "{python}" -m distlab_tools.export_notes "${{2:-$here/notes}}" "$here"/notebooks/[0-9]*.ipynb
fi
echo "In the class, ./lab notes [DIR] exports your notebooks as study notes; the rest is the teacher's." >&2
exit 2
"""
# JupyterLab's "get notified about official Jupyter news?" would greet every learner: answered
# "no" once, in the learner's own settings (which they can change).
NEWS_SETTINGS = ".jupyter/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"


def answer_news(settings_file):
    """Answers JupyterLab's news prompt "no", once: a file already there (the person's own
    choice, made in JupyterLab) is left as it is. Used for learners and by `./lab open`."""
    if not os.path.exists(settings_file):
        os.makedirs(os.path.dirname(settings_file), exist_ok=True)
        _write_if_changed(settings_file, '{"fetchNews": "false", "checkForUpdates": false}\n')


class ClassError(Exception):
    """A mistake in the class's set-up, e.g. `users.txt:3:5: ...`."""


def parse_options(args, defaults, command, usage, repeat=()):
    """The `--name value` options of a `./lab class` subcommand: (values, None) to go on, or
    (values, exit code) once -h printed `usage` (0) or a wrong option was named (2). `defaults`
    names every option; those in `repeat` may be given again, and collect into a list."""
    values = dict(defaults, **{name: [] for name in repeat})
    args = list(args)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(usage)
            return values, 0
        if a not in values:
            print(f"{command}: unknown option {a!r}\n{usage}", file=sys.stderr)
            return values, 2
        if not args:
            print(f"{command}: {a} needs a value\n{usage}", file=sys.stderr)
            return values, 2
        if a in repeat:
            values[a].append(args.pop(0))
        else:
            values[a] = args.pop(0)
    return values, None


def check_name(name, where):
    """A user name as JupyterHub keeps it, and as a folder and a cgroup can be named."""
    if not NAME.fullmatch(name):
        raise ClassError(
            f"{where} {name!r} is not a user name: use 1 to 32 lowercase letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )


def read_users(path):
    """The learners' names in a teacher-made list: one per line, `#` starts a comment, blank
    lines are skipped. A bad or repeated name is an error naming the file, line and column."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ClassError(f"{path}: cannot read the list of learners: {e}") from e
    names, seen = [], {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0]
        name = text.strip()
        if not name:
            continue
        column = len(text) - len(text.lstrip()) + 1
        check_name(name, f"{path}:{number}:{column}:")
        if name in seen:
            raise ClassError(f"{path}:{number}:{column}: {name!r} is already on line {seen[name]}")
        seen[name] = number
        names.append(name)
    return names


def manifest(root):
    """A Cargo.toml for the package `distlab` whose library is the project's `src/lib.rs`:
    the learner's folder then shows only this file and the notebooks, and a learner cannot
    change the shared sources from JupyterLab's file browser by accident."""
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        project = tomllib.load(f)
    package = {k: v for k, v in project["package"].items() if k in ("name", "version", "edition", "rust-version")}
    package.update(autobins=False, autoexamples=False, autotests=False, autobenches=False)
    src = os.path.join(root, "src")
    parts = [MANIFEST_NOTE.format(src=src), _table("package", package)]
    parts.append(_table("lib", {"path": os.path.join(src, "lib.rs")}))
    parts.append(_table("dependencies", project.get("dependencies", {})))
    return "\n".join(parts)


def _table(name, values):
    return f"[{name}]\n" + "".join(f"{key} = {_value(value)}\n" for key, value in values.items())


def _value(value):
    """TOML for the values a Cargo manifest's [package] and [dependencies] hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise ClassError(f"Cargo.toml holds a value ./lab class cannot copy: {value!r}")


def prepare_home(home, root, seed_cache=None, python=None):
    """A learner's folder, made at every start of their server:
    - `distlab/Cargo.toml` and `distlab/lab` (for `./lab notes`), rewritten each time (they are
      the class's, not the learner's);
    - `distlab/notebooks/`: a copy of every lesson notebook the learner does not have yet, so
      their edits survive every later login, and a notebook added to the lesson arrives;
    - `.cache/evcxr`, once: evcxr's compiled dependencies, hard links into the seed cache.
    `python` runs `./lab notes` (default: the project's .venv). Returns the notebooks copied
    this time."""
    crate = os.path.join(home, "distlab")
    notebooks = os.path.join(crate, "notebooks")
    os.makedirs(notebooks, exist_ok=True)
    _write_if_changed(os.path.join(crate, "Cargo.toml"), manifest(root))
    python = python or os.path.join(root, ".venv", "bin", "python")
    _write_if_changed(os.path.join(crate, "lab"), LAB_SCRIPT.format(python=python))
    os.chmod(os.path.join(crate, "lab"), 0o755)
    answer_news(os.path.join(home, NEWS_SETTINGS))
    copied = []
    lesson = os.path.join(root, "notebooks")
    for name in sorted(os.listdir(lesson)):
        target = os.path.join(notebooks, name)
        if name.endswith(".ipynb") and not os.path.exists(target):
            shutil.copyfile(os.path.join(lesson, name), target)
            copied.append(name)
    cache = os.path.join(home, ".cache", "evcxr")
    if seed_cache and os.path.isdir(seed_cache) and not os.path.exists(cache):
        # Hard links into the seed: why a learner's cache is their own, see evcxr_cache.py.
        evcxr_cache.link_cache(seed_cache, cache)
    return copied


# Memory and CPU limits: JupyterHub's local spawners only pass MEM_LIMIT and CPU_LIMIT to the
# server as numbers to show; they enforce nothing. Here each learner's server (and so its
# kernels and their rustc) goes into a control group of its own. cgroup v2 (one tree) and v1
# (a tree per controller) are both handled.
CGROUP = "/sys/fs/cgroup"
GROUP = "distlab-class"
PERIOD_US = 100_000


def cgroup_dirs(user):
    """{controller: directory} of a learner's control groups."""
    if os.path.exists(os.path.join(CGROUP, "cgroup.controllers")):
        path = os.path.join(CGROUP, GROUP, user)
        return {"memory": path, "cpu": path}
    return {c: os.path.join(CGROUP, c, GROUP, user) for c in ("memory", "cpu")}


def limit(pid, user, mem_bytes, cpus):
    """Puts process `pid` (and everything it starts later) under a memory and CPU limit.
    Returns what was applied, as text for the hub's log; raises OSError when this machine
    does not let us (no cgroups, not root, a read-only /sys/fs/cgroup)."""
    dirs, done = _make_group(user, mem_bytes, cpus)
    for d in dirs:
        _write(os.path.join(d, "cgroup.procs"), str(pid))
    return ", ".join(done) + f" ({'cgroup v2' if len(dirs) == 1 else 'cgroup v1'} {dirs[0]})"


def make_group(user, mem_bytes, cpus):
    """The control group(s) of `user` with these limits, made and set, nobody in them yet:
    their directories, sorted. A process joins by writing "0" to each one's cgroup.procs
    (./lab class grade does so in the child, before it drops to the learner). Raises OSError
    as `limit` does."""
    return _make_group(user, mem_bytes, cpus)[0]


def _make_group(user, mem_bytes, cpus):
    dirs = cgroup_dirs(user)
    v2 = dirs["memory"] == dirs["cpu"]
    if v2:
        parent = os.path.dirname(dirs["memory"])
        os.makedirs(parent, exist_ok=True)
        for level in (CGROUP, parent):
            _write(os.path.join(level, "cgroup.subtree_control"), "+memory +cpu")
    for d in set(dirs.values()):
        os.makedirs(d, exist_ok=True)
    done = []
    if mem_bytes:
        name = "memory.max" if v2 else "memory.limit_in_bytes"
        _write(os.path.join(dirs["memory"], name), str(int(mem_bytes)))
        done.append(f"memory {int(mem_bytes) / 2**30:.1f} GiB")
    if cpus:
        quota = max(1000, int(cpus * PERIOD_US))
        if v2:
            _write(os.path.join(dirs["cpu"], "cpu.max"), f"{quota} {PERIOD_US}")
        else:
            _write(os.path.join(dirs["cpu"], "cpu.cfs_period_us"), str(PERIOD_US))
            _write(os.path.join(dirs["cpu"], "cpu.cfs_quota_us"), str(quota))
        done.append(f"{cpus:g} CPU")
    return sorted(set(dirs.values()), key=lambda d: d != dirs["memory"]), done


def peak_memory(user):
    """The most memory a learner's group has used since it was made, in bytes, or None."""
    d = cgroup_dirs(user)["memory"]
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        try:
            with open(os.path.join(d, name)) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError):
            continue
    return None


def release(user):
    """Stops whatever is left in a learner's control groups, then removes them; quiet when
    there are none. A single-user server stopped by the hub (Ctrl-C, the idle culler, the admin
    page) does not stop its kernels: seen here, two evcxr kernels ran on for an hour after
    their hub was gone."""
    dirs = set(cgroup_dirs(user).values())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = _members(dirs)
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(20 if left else 0):
            if not _members(dirs):
                break
            time.sleep(0.1)
    for d in dirs:
        try:
            os.rmdir(d)
        except OSError:
            pass


def _members(dirs):
    pids = set()
    for d in dirs:
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(line) for line in f if line.strip())
        except OSError:
            continue
    return pids


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def prepare_learner(home, root, class_dir):
    """A learner's folder when they are a system user of their own (distlab_tools.class_users),
    run as that learner: prepare_home, `./lab notes` with the class's shared Python, and their
    cargo reading the class's vendored crates, offline. The seed cache is linked in by root."""
    from . import class_users

    done = prepare_home(home, root, python=class_users.toolchain_paths(class_dir)["python"])
    os.makedirs(os.path.join(home, ".cargo"), exist_ok=True)
    _write_if_changed(os.path.join(home, ".cargo", "config.toml"), class_users.cargo_config(class_dir))
    return done


USAGE = """usage: python -m distlab_tools.classroom COMMAND
  prepare HOME ROOT SEED_CACHE   a learner's folder (in the learners' container image each
                                 server starts with it: tools/class/z2jh-values.yaml)
  prepare-learner HOME ROOT CLASS_DIR   the same, run as a learner's own system user
  users FILE TEACHER             checks the teacher's name and the list; prints how many learners
  answer-news SETTINGS_FILE      answers JupyterLab's news prompt "no" (./lab open)"""


def main(args):
    if len(args) == 4 and args[0] == "prepare":
        # What ClassSpawner does before a server starts on one machine.
        done = prepare_home(*args[1:4])
        print(f"distlab: {len(done)} notebooks copied into {args[1]}/distlab/notebooks")
    elif len(args) == 4 and args[0] == "prepare-learner":
        done = prepare_learner(*args[1:4])
        print(f"distlab: {len(done)} notebooks copied into {args[1]}/distlab/notebooks")
    elif len(args) == 3 and args[0] == "users":
        try:
            check_name(args[2], "./lab class: --teacher")
            print(len(read_users(args[1])))
        except ClassError as e:
            sys.exit(f"error: {e}")
    elif len(args) == 2 and args[0] == "answer-news":
        answer_news(args[1])
    else:
        sys.exit(USAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
