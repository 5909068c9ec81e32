"""The few things the class's hub asks root to do, through sudo (issue 25: the hub with the
least privilege JupyterHub's documentation allows).

When ./lab class is started as root, the hub runs as an unprivileged user of its own
(class_users.hub_user). JupyterHub's sudospawner lets it start learners' servers through
sudo; what else needs root is here, and the hub may run nothing else as root:

    prepare NAME               learner NAME's system user and home (class_users.ensure_learner,
                               prepare_as_learner: the folder is filled as the learner)
    limit NAME PID MEM CPUS    put their server PID, which must be running as their user, in
                               their control group with these limits (classroom.limit)
    release NAME               stop what is left in their control group (classroom.release)
    report [NAME ...]          build the class report (class_report.build_report) into
                               CLASS_DIR/report, readable by the hub's group (its web page)

It is started as `distlab-class-root ACTION ...` by a root-owned wrapper in the class's
toolchain (class_users.write_hub_scripts) whose sudoers rule names it alone; that wrapper gives
the class folder, so the hub cannot point it anywhere else. Every argument is checked here:
names as the hub's user names (classroom.check_name), numbers as numbers in range.
"""
import grp
import os
import pwd
import sys

from . import ROOT, class_report, class_users, classroom


class Refused(Exception):
    pass


def learner(class_dir, name):
    try:
        classroom.check_name(name, "learner")
    except classroom.ClassError as e:
        raise Refused(str(e)) from None
    return name


def number(text, what, low, high, kind=int):
    try:
        value = kind(text)
    except ValueError:
        raise Refused(f"{what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise Refused(f"{what} {text!r} is outside {low}..{high}")
    return value


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Uid:"))


def run(class_dir, args):
    if not args:
        raise Refused("no action (prepare, limit, release, report)")
    action, rest = args[0], args[1:]
    if action == "prepare" and len(rest) == 1:
        name = learner(class_dir, rest[0])
        pw = class_users.ensure_learner(class_dir, name)
        tools = class_users.toolchain_paths(class_dir)
        env = dict(class_users.learner_env(class_dir), JUPYTER_PATH=os.path.join(class_dir, "jupyter"))
        out = class_users.prepare_as_learner(pw, ROOT, class_dir, tools["python"], env)
        return f"{name}: runs as {pw.pw_name} (uid {pw.pw_uid}, home {pw.pw_dir}); {out.strip()}"
    if action == "limit" and len(rest) == 4:
        name = learner(class_dir, rest[0])
        pid = number(rest[1], "pid", 2, 2**22)
        mem = number(rest[2], "memory", 64 * 2**20, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        cpus = number(rest[3], "cpus", 0.01, os.cpu_count(), float)
        owner = pwd.getpwnam(class_users.account(name)).pw_uid
        try:
            if uid_of(pid) != owner:
                raise Refused(f"process {pid} is not {class_users.account(name)}'s")
        except FileNotFoundError:
            raise Refused(f"no process {pid}") from None
        return classroom.limit(pid, name, mem, cpus)
    if action == "release" and len(rest) == 1:
        classroom.release(learner(class_dir, rest[0]))
        return ""
    if action == "report":
        names = [learner(class_dir, n) for n in rest]
        out = os.path.join(class_dir, "report")
        users = os.path.join(class_dir, "hub", "users.txt")
        class_report.build_report(class_dir, out, users if os.path.exists(users) else None, also=names,
                                  group=grp.getgrnam(class_users.hub_user()).gr_gid)
        return out
    raise Refused(f"not an action this helper takes: {' '.join(args)[:200]!r}")


def main(args):
    if len(args) < 1 or not os.path.isabs(args[0]):
        print("distlab-class-root: started without the class folder", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("distlab-class-root: not root (it is run through sudo by the class's hub)", file=sys.stderr)
        return 2
    os.umask(0o022)
    try:
        said = run(args[0], args[1:])
    except (Refused, classroom.ClassError, RuntimeError, OSError, KeyError) as e:
        print(f"distlab-class-root: refused: {e}", file=sys.stderr)
        return 1
    if said:
        print(said)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
