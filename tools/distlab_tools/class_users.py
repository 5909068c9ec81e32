"""One system user per learner, for `./lab class` run as root (issue 25, item 1).

Each learner NAME gets the system user `jupyter-NAME` (as The Littlest JupyterHub does), whose
home is CLASS_DIR/home/NAME, mode 0700: their server, kernel and rustc run as that user
(jupyterhub_config.py's LearnerSpawner), so one learner's code cannot read, change or delete
another's notebooks, nor signal their processes.

What every learner runs lives where all can read and none can write, made once by root:

    toolchain/rust     the active Rust toolchain (`rustc --print sysroot`), hard links
    toolchain/bin      evcxr_jupyter, a hard link
    toolchain/python   the .venv's base Python (sys.base_prefix), hard links: the teacher's
                       Python may sit under a home other users cannot enter (here /root)
    toolchain/venv     a view of the project's .venv for that Python: its site-packages
    vendor/            the crates distlab needs (`cargo vendor`), read by each learner's cargo
                       through ~/.cargo/config.toml (offline: no learner downloads anything)
    cache/evcxr        the seed of evcxr's cache (seed_cache.py), built with the same sources

Hard links keep one copy on disk; none is ever chowned or chmodded (that would change the
original). A learner's folder is only ever chowned, never recreated: notebooks from earlier
runs stay as they are. `./lab class remove-users` deletes the system users, never their folders.

    python -m distlab_tools.class_users toolchain ROOT CLASS_DIR   the shared toolchain (once)
    python -m distlab_tools.class_users check                      what this user can do
    python -m distlab_tools.class_users hub ROOT CLASS_DIR USERS   the hub's user and sudo rules
    python -m distlab_tools.class_users remove CLASS_DIR           delete the learners' users
"""
import asyncio
import grp
import hashlib
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys

from . import evcxr_cache

PREFIX = "jupyter-"  # DISTLAB_CLASS_USER_PREFIX overrides it (the class test's users: dltest-)
COMMENT = "distlab learner"  # marks the users ./lab class made: remove() deletes only these
HUB_COMMENT = "distlab hub"  # the hub's own user (hub_user())
STAMP = ".toolchain.stamp"

NOT_ROOT = """\
    Not root: ./lab class cannot create a system user per learner here, so every learner's
    server, kernel and code would run as '{user}' and could read, change or delete every other
    learner's notebooks, and stop their processes. For a class, run ./lab class as root: each
    learner then runs as their own unprivileged user (jupyter-NAME) with a home of their own
    (docs/class.md, "What keeps learners apart")."""


def account(name):
    """The system user of learner `name`: jupyter-NAME (at most 32 characters: a longer name
    is cut and given a hash, so two long names never share a user)."""
    full = os.environ.get("DISTLAB_CLASS_USER_PREFIX", PREFIX) + name
    if len(full) <= 32:
        return full
    return full[:25] + "-" + hashlib.sha256(name.encode()).hexdigest()[:6]


def hub_user():
    """The unprivileged user the hub runs as when ./lab class is started as root: PREFIX-hub
    style names could clash with a learner called "hub", so it is distlab-hub (the class test:
    dltest-hub), set by DISTLAB_CLASS_HUB_USER."""
    return os.environ.get("DISTLAB_CLASS_HUB_USER", "distlab-hub")


def learners_group():
    """The group every learner's user is in, and nothing else: sudo lets the hub's user start
    the mediator as members of this group only (DISTLAB_CLASS_LEARNERS_GROUP overrides it)."""
    return os.environ.get("DISTLAB_CLASS_LEARNERS_GROUP", "distlab-learners")


def check():
    """What ./lab class can do as this user: None as root, else the message saying what not."""
    if os.geteuid() == 0:
        return None
    return NOT_ROOT.format(user=pwd.getpwuid(os.geteuid()).pw_name)


# --- the learners' users and folders -----------------------------------------------------------

def ensure_learner(class_dir, name):
    """The system user of `name` and their home, CLASS_DIR/home/NAME (0700, theirs): created
    when missing; a home from an earlier run is handed over to the user (adopt_home), never
    recreated. Returns the user's passwd entry."""
    home = os.path.join(class_dir, "home", name)
    user = account(name)
    group = learners_group()
    ensure_group(group)
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--groups", group, "--no-create-home", "--home-dir", home,
                        "--shell", "/bin/bash", "--comment", f"{COMMENT} {name}", user],
                       check=True, capture_output=True, text=True)
        pw = pwd.getpwnam(user)
    if pw.pw_dir != home or not pw.pw_gecos.startswith(COMMENT):
        raise RuntimeError(f"the system user {user} exists but is not this class's learner {name} "
                           f"(home {pw.pw_dir}, comment {pw.pw_gecos!r}); rename or remove it")
    if user not in grp.getgrnam(group).gr_mem:  # made before the group existed
        subprocess.run(["usermod", "--append", "--groups", group, user], check=True, capture_output=True, text=True)
    os.makedirs(os.path.dirname(home), exist_ok=True)
    os.chmod(os.path.dirname(home), 0o711)  # learners enter their own home, list no one's
    try:
        os.mkdir(home, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(home)
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeError(f"{home} is not a directory")
    if st.st_uid != pw.pw_uid:
        adopt_home(home, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o700)
    return pw


def ensure_group(group):
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["groupadd", "--system", group], check=True, capture_output=True, text=True)


def adopt_home(home, uid, gid):
    """Hands a folder made by an earlier run (as the hub's user) to its learner: every
    directory, symlink (itself, not its target) and regular file with one link becomes theirs.
    A file with several links (the seed cache's compiled files) keeps its owner: chowning it
    would chown the other names too. Nothing is moved, deleted or rewritten. Returns how many
    files were left as they were."""
    kept = 0
    for d, dirs, files in os.walk(home):
        os.chown(d, uid, gid, follow_symlinks=False)
        for n in dirs + files:
            path = os.path.join(d, n)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode) or st.st_nlink == 1:
                os.chown(path, uid, gid, follow_symlinks=False)
            else:
                kept += 1
    return kept


def prepare_as_learner(pw, root, class_dir, python, env):
    """classroom.prepare_home for the learner, run as the learner (so root never writes into
    a folder its learner controls: a symlink planted there would redirect root's writes), then
    the seed cache linked in by root (link_seed)."""
    cmd = [python, "-m", "distlab_tools.classroom", "prepare-learner", pw.pw_dir, root, class_dir]
    r = subprocess.run(cmd, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], cwd=pw.pw_dir,
                       env=dict(env, HOME=pw.pw_dir, USER=pw.pw_name, PYTHONPATH=os.path.join(root, "tools")),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"preparing {pw.pw_dir} as {pw.pw_name} failed: {r.stderr[-2000:]}")
    link_seed(pw, os.path.join(class_dir, "cache", "evcxr"), os.path.join(class_dir, "staging"))
    return r.stdout


def link_seed(pw, seed, staging):
    """HOME/.cache/evcxr, once: hard links to the seed (root-owned, read-only to the learner),
    made by root because the kernel forbids a user to link files they do not own
    (fs.protected_hardlinks), in a staging folder of root's, its directories and `hits`
    counters then given to the learner, and renamed into the home through directory handles
    opened without following symlinks."""
    if not os.path.isdir(seed):
        return False
    home_fd = os.open(pw.pw_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            os.mkdir(".cache", 0o700, dir_fd=home_fd)
            os.chown(".cache", pw.pw_uid, pw.pw_gid, dir_fd=home_fd, follow_symlinks=False)
        except FileExistsError:
            pass
        cache_fd = os.open(".cache", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=home_fd)
    finally:
        os.close(home_fd)
    try:
        if os.fstat(cache_fd).st_uid != pw.pw_uid:
            raise RuntimeError(f"{pw.pw_dir}/.cache is not {pw.pw_name}'s")
        try:
            os.stat("evcxr", dir_fd=cache_fd, follow_symlinks=False)
            return False  # the learner's cache is theirs from the first start on
        except FileNotFoundError:
            pass
        os.makedirs(staging, mode=0o700, exist_ok=True)
        os.chmod(staging, 0o700)
        made = os.path.join(staging, pw.pw_name)
        shutil.rmtree(made, ignore_errors=True)
        evcxr_cache.link_cache(seed, made)
        for d, dirs, files in os.walk(made):
            os.chown(d, pw.pw_uid, pw.pw_gid)
            for n in files:
                if n == "hits":  # a copy (evcxr rewrites it on every hit), not a link
                    os.chown(os.path.join(d, n), pw.pw_uid, pw.pw_gid)
        os.rename(made, "evcxr", dst_dir_fd=cache_fd)
        return True
    finally:
        os.close(cache_fd)


def learners(class_dir):
    """The system users ./lab class made for this class's folders."""
    top = os.path.join(os.path.realpath(class_dir), "home") + os.sep
    return [pw for pw in pwd.getpwall() if pw.pw_gecos.startswith(COMMENT) and pw.pw_dir.startswith(top)]


def remove(class_dir):
    """Deletes the system users of this class (and their groups); their folders stay, handed
    back to root (mode 0700), so a user id given later to someone else owns none of them."""
    removed = []
    for pw in learners(class_dir):
        if os.path.isdir(pw.pw_dir) and not os.path.islink(pw.pw_dir):
            adopt_home(pw.pw_dir, 0, 0)
            os.chmod(pw.pw_dir, 0o700)
        subprocess.run(["userdel", pw.pw_name], check=True, capture_output=True, text=True)
        try:
            grp.getgrnam(pw.pw_name)
            subprocess.run(["groupdel", pw.pw_name], check=False, capture_output=True)
        except KeyError:
            pass
        removed.append(pw.pw_name)
    removed += remove_hub(class_dir)
    return removed


# --- the shared toolchain ----------------------------------------------------------------------

def toolchain_paths(class_dir):
    t = os.path.join(class_dir, "toolchain")
    return {
        "dir": t,
        "rust_bin": os.path.join(t, "rust", "bin"),
        "bin": os.path.join(t, "bin"),
        "python_lib": os.path.join(t, "python", "lib"),
        "venv": os.path.join(t, "venv"),
        "python": os.path.join(t, "venv", "bin", "python"),
        "vendor": os.path.join(class_dir, "vendor"),
    }


def learner_env(class_dir):
    """The environment every learner process starts with (HOME and CARGO_HOME are added per
    learner): the shared toolchain first on PATH, no rustup."""
    p = toolchain_paths(class_dir)
    return {
        "PATH": os.pathsep.join([p["rust_bin"], p["bin"], os.path.join(p["venv"], "bin"),
                                 "/usr/local/bin", "/usr/bin", "/bin"]),
        # The copied Python's own library (its RUNPATH names the original's folder), and the
        # Rust standard library every cell's code links to (-Cprefer-dynamic). Without the
        # second, the kernel's first cell fails with "dlopen failed": rustc writes the RUNPATH
        # of libcode_N.so relative to target/.../debug/deps, cargo then moves the file up to
        # debug/, so $ORIGIN has one folder fewer than rustc counted. That is harmless only when
        # the path climbs to / anyway (the toolchain and evcxr's /tmp share no first folder,
        # as with ~/.rustup); a class folder under /tmp (a clone there) lands one level off.
        "LD_LIBRARY_PATH": os.pathsep.join([p["python_lib"]] + rust_libs(p["dir"])),
        "VIRTUAL_ENV": p["venv"],
    }


def rust_libs(toolchain):
    """The shared toolchain's folders holding the standard library as a shared object
    (lib/rustlib/TRIPLE/lib/libstd-*.so), sorted: one per target installed."""
    top = os.path.join(toolchain, "rust", "lib", "rustlib")
    found = []
    for triple in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        lib = os.path.join(top, triple, "lib")
        if os.path.isdir(lib) and any(n.startswith("libstd-") and n.endswith(".so") for n in os.listdir(lib)):
            found.append(lib)
    return found


def cargo_config(class_dir):
    """Each learner's ~/.cargo/config.toml: crates from the shared vendor folder, offline."""
    vendor = toolchain_paths(class_dir)["vendor"]
    return ("# Written by ./lab class: distlab's crates come from the class's shared copy.\n"
            '[source.crates-io]\nreplace-with = "class-vendor"\n\n'
            f'[source.class-vendor]\ndirectory = "{vendor}"\n\n[net]\noffline = true\n')


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout.strip()


def _copy_tree(src, dst):
    """`dst` as hard links to `src` (cp -al), made beside it and renamed into place."""
    partial = dst + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["cp", "-al", src, partial], check=True)
    shutil.rmtree(dst, ignore_errors=True)
    os.replace(partial, dst)


def unreachable(path):
    """The first folder on the way to `path` that other users cannot pass through (no o+x),
    or None: the learners must reach the project's sources, tools and packages."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        d = os.sep.join(parts[:i]) or os.sep
        if os.path.isdir(d) and not os.stat(d).st_mode & stat.S_IXOTH:
            return d
    return None


def build_toolchain(root, class_dir):
    """The shared toolchain, once per rustc, evcxr, Python and Cargo.lock (a stamp says which)."""
    p = toolchain_paths(class_dir)
    sysroot = _run(["rustc", "--print", "sysroot"])
    evcxr = shutil.which("evcxr_jupyter")
    if not evcxr:
        raise RuntimeError("evcxr_jupyter is not on PATH (./lab setup builds it)")
    venv_python = os.path.join(root, ".venv", "bin", "python")
    base = _run([venv_python, "-c", "import sys; print(sys.base_prefix)"])
    purelib = _run([venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    for needed in (os.path.join(root, "src"), os.path.join(root, "tools", "evcxr"), purelib, class_dir):
        closed = unreachable(needed)
        if closed:
            raise RuntimeError(f"the learners cannot reach {needed}: {closed} is closed to other users "
                               f"(mode {stat.S_IMODE(os.stat(closed).st_mode):o}). Put the project and the "
                               "class folder where every user may enter (e.g. /srv or /opt), or chmod o+x it")
    with open(os.path.join(root, "Cargo.lock"), "rb") as f:
        lock = hashlib.sha256(f.read()).hexdigest()
    want = "\n".join([sysroot, _run(["rustc", "-V"]), os.path.realpath(evcxr), str(os.stat(evcxr).st_mtime_ns),
                      base, purelib, lock, "2"])
    stamp = os.path.join(p["dir"], STAMP)
    try:
        with open(stamp) as f:
            if f.read() == want:
                return False
    except OSError:
        pass
    os.umask(0o022)
    os.makedirs(p["dir"], exist_ok=True)
    os.chmod(p["dir"], 0o755)
    _copy_tree(sysroot, os.path.join(p["dir"], "rust"))
    _copy_tree(base, os.path.join(p["dir"], "python"))
    os.makedirs(p["bin"], exist_ok=True)
    target = os.path.join(p["bin"], "evcxr_jupyter")
    if os.path.lexists(target):
        os.remove(target)
    os.link(os.path.realpath(evcxr), target)
    # A virtual environment for the copied Python whose packages are the project's .venv's.
    venv = p["venv"]
    shutil.rmtree(venv, ignore_errors=True)
    version = _run([venv_python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"])
    os.makedirs(os.path.join(venv, "bin"))
    os.makedirs(os.path.join(venv, "lib", f"python{version}"))
    os.symlink(purelib, os.path.join(venv, "lib", f"python{version}", "site-packages"))
    os.symlink(os.path.join(p["dir"], "python", "bin", f"python{version}"), os.path.join(venv, "bin", "python"))
    with open(os.path.join(venv, "pyvenv.cfg"), "w") as f:
        f.write(f"home = {os.path.join(p['dir'], 'python', 'bin')}\ninclude-system-site-packages = false\n"
                f"version = {version}\n")
    # The crates distlab needs, for every learner's cargo (offline).
    vendor = p["vendor"]
    partial = vendor + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    # With the crates of the standard library's own workspace: the kernel's rust-analyzer asks
    # cargo about the sysroot (`cargo metadata` on library/Cargo.toml); offline and without
    # them that fails, and cells using `?` fail with "the `!` type is experimental" (seen here).
    cmd = ["cargo", "vendor", "--locked", "--versioned-dirs", "--manifest-path", os.path.join(root, "Cargo.toml")]
    library = os.path.join(sysroot, "lib", "rustlib", "src", "rust", "library", "Cargo.toml")
    if os.path.exists(library):
        cmd += ["--sync", library]
    # The library's manifest uses unstable cargo features; rust-analyzer reads it so too.
    r = subprocess.run(cmd + [partial], capture_output=True, text=True, env=dict(os.environ, RUSTC_BOOTSTRAP="1"))
    if r.returncode != 0:
        raise RuntimeError(f"cargo vendor failed: {r.stderr[-2000:]}")
    shutil.rmtree(vendor, ignore_errors=True)
    os.replace(partial, vendor)
    with open(stamp, "w") as f:
        f.write(want)
    return True


def check_shared_readonly(class_dir, root):
    """Paths under the shared toolchain, vendor, seed and sources that anyone but root could
    write (there should be none)."""
    bad = []
    for top in (os.path.join(class_dir, "toolchain"), os.path.join(class_dir, "vendor"),
                os.path.join(class_dir, "cache"), os.path.join(root, "src")):
        for d, dirs, files in os.walk(top):
            for n in [d] + [os.path.join(d, f) for f in files]:
                st = os.lstat(n)
                if not stat.S_ISLNK(st.st_mode) and (st.st_uid != 0 or st.st_mode & 0o022):
                    bad.append(n)
    return bad


# --- the hub as an unprivileged user (sudospawner) ---------------------------------------------

# The hub's own files, kept in CLASS_DIR/hub (its home, 0700) when it runs as hub_user(); a
# class folder from before is moved there (renamed, never copied or rewritten).
HUB_STATE = ["jupyterhub.sqlite", "jupyterhub_cookie_secret", "passwords.dbm", "passwords.dbm.db", "passwords.dbm.dir",
             "passwords.dbm.pag", "passwords.dbm.dat", "passwords.dbm.bak", "jupyterhub.pid", "proxy.pid"]
SAFE_PATH = re.compile(r"/[A-Za-z0-9/._+-]*")


def hub_paths(class_dir):
    t = toolchain_paths(class_dir)["bin"]
    return {
        "state": os.path.join(class_dir, "hub"),
        "mediator": os.path.join(t, "sudospawner"),
        "mediator_py": os.path.join(t, "sudospawner-mediator"),
        "singleuser": os.path.join(t, "sudospawner-singleuser"),
        "helper": os.path.join(t, "distlab-class-root"),
        "sudoers": "/etc/sudoers.d/distlab-class-" + hashlib.sha256(os.path.realpath(class_dir).encode()).hexdigest()[:12],
    }


def root_only(paths):
    """Paths (and the folders above them) that a user other than root could change: sudo runs
    code from them as root or as a learner, so every one must be root's and not group- or
    world-writable."""
    bad = []
    for path in paths:
        path = os.path.realpath(path)
        parts = path.split(os.sep)
        for i in range(2, len(parts) + 1):
            d = os.sep.join(parts[:i])
            st = os.stat(d)
            sticky = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
            if st.st_uid != 0 or (st.st_mode & 0o022 and not sticky):
                bad.append(d)
    return sorted(set(bad))


def _write_root_file(path, text, mode):
    partial = path + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), mode)
        f.write(text)
    os.replace(partial, path)


def write_hub_scripts(root, class_dir):
    """The three scripts sudo runs for the hub, root's and read-only, in the class toolchain:
    the sudospawner mediator (as a learner), the server it may start, and the root helper
    (class_root). Each names its programs by absolute path; sudo clears the environment."""
    p, t = hub_paths(class_dir), toolchain_paths(class_dir)
    q = shlex.quote
    _write_root_file(p["mediator_py"], "# Written by ./lab class: sudospawner's mediator, found beside its server script.\n"
                     "import sys\n\nfrom sudospawner.mediator import main\n\nsys.exit(main())\n", 0o644)
    _write_root_file(p["mediator"], "#!/bin/sh\n# Written by ./lab class. sudo runs it as a learner for the hub (sudospawner).\n"
                     f"LD_LIBRARY_PATH={q(t['python_lib'])} exec {q(t['python'])} -I {q(p['mediator_py'])} \"$@\"\n", 0o755)
    _write_root_file(p["singleuser"], "#!/bin/sh\n# Written by ./lab class: the only server the mediator starts.\n"
                     f"exec {q(t['python'])} -m jupyterhub.singleuser \"$@\"\n", 0o755)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from distlab_tools import class_root; "
            "sys.exit(class_root.main(sys.argv[2:]))")
    # sudo clears the environment: the names of this class's users are fixed here, at set-up.
    names = " ".join(f"{k}={q(v)}" for k, v in (("DISTLAB_CLASS_USER_PREFIX", os.environ.get("DISTLAB_CLASS_USER_PREFIX", PREFIX)),
                                                ("DISTLAB_CLASS_HUB_USER", hub_user()),
                                                ("DISTLAB_CLASS_LEARNERS_GROUP", learners_group())))
    _write_root_file(p["helper"], "#!/bin/sh\n# Written by ./lab class. sudo runs it as root for the hub (class_root).\n"
                     f"export {names}\n"
                     f"exec {q(os.path.join(root, '.venv', 'bin', 'python'))} -I -c {q(code)} "
                     f"{q(os.path.join(root, 'tools'))} {q(class_dir)} \"$@\"\n", 0o755)


def sudoers_text(class_dir, hub):
    p = hub_paths(class_dir)
    return (f"# Written by ./lab class for {class_dir}; ./lab class remove-users deletes it.\n"
            "# The class's hub may start sudospawner's mediator as a learner (a member of the group\n"
            "# below, nobody else), and run the class's root helper (distlab_tools.class_root).\n"
            f"{hub} ALL=(%{learners_group()}) NOPASSWD: {p['mediator']}\n"
            f"{hub} ALL=(root) NOPASSWD: {p['helper']}\n")


def setup_hub(root, class_dir, users_file):
    """As root, before the hub starts: its user and CLASS_DIR/hub, the scripts sudo runs for it
    and their sudoers rule (checked by visudo). Returns the hub's passwd entry."""
    p = hub_paths(class_dir)
    for path in (class_dir, root):
        if not SAFE_PATH.fullmatch(os.path.realpath(path)):
            raise RuntimeError(f"{path}: a sudoers rule names paths in it; use letters, digits and / . _ + - only")
    venv_python = os.path.realpath(os.path.join(root, ".venv", "bin", "python"))
    bad = root_only([os.path.join(root, "tools", "distlab_tools"), os.path.join(root, ".venv", "bin"), venv_python,
                     toolchain_paths(class_dir)["bin"], toolchain_paths(class_dir)["python"]])
    if bad:
        raise RuntimeError("sudo would run code from folders someone other than root can change: "
                           + ", ".join(bad) + ". Keep the project and the class folder root's (chmod go-w)")
    hub = hub_user()
    ensure_group(learners_group())
    try:
        pw = pwd.getpwnam(hub)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", p["state"],
                        "--shell", "/usr/sbin/nologin", "--comment", f"{HUB_COMMENT} {class_dir}", hub],
                       check=True, capture_output=True, text=True)
        pw = pwd.getpwnam(hub)
    if not pw.pw_gecos.startswith(HUB_COMMENT) or pw.pw_dir != p["state"]:
        raise RuntimeError(f"the system user {hub} exists but is not this class's hub (home {pw.pw_dir}, "
                           f"comment {pw.pw_gecos!r}); remove it, or run ./lab class remove-users for its class")
    os.makedirs(p["state"], mode=0o700, exist_ok=True)
    st = os.lstat(p["state"])
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeError(f"{p['state']} is not a directory")
    os.chown(p["state"], pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    os.chmod(p["state"], 0o700)
    for name in HUB_STATE:  # a class that ran as root before: its state moves, untouched
        old, new = os.path.join(class_dir, name), os.path.join(p["state"], name)
        if os.path.lexists(old) and not os.path.lexists(new):
            os.rename(old, new)
    for name in os.listdir(p["state"]):
        os.chown(os.path.join(p["state"], name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    with open(users_file, "rb") as f:
        _write_root_file(os.path.join(p["state"], "users.txt"), f.read().decode("utf-8", "replace"), 0o600)
    os.chown(os.path.join(p["state"], "users.txt"), pw.pw_uid, pw.pw_gid)
    token = os.path.join(class_dir, "admin-token")
    os.chown(token, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    os.chmod(token, 0o600)
    write_hub_scripts(root, class_dir)
    text = sudoers_text(class_dir, hub)
    partial = p["sudoers"] + ".partial"  # visudo checks it before sudo ever reads it
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o440)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    r = subprocess.run(["visudo", "-c", "-q", "-f", partial], capture_output=True, text=True)
    if r.returncode != 0:
        os.remove(partial)
        raise RuntimeError(f"visudo refused the class's sudoers rule: {r.stdout}{r.stderr}")
    os.replace(partial, p["sudoers"])
    return pw


async def as_root(class_dir, *args):
    """The class's root helper (class_root) ACTION through sudo, from the hub's user (who may
    run that and nothing else as root): its standard output, or RuntimeError with what it said."""
    proc = await asyncio.create_subprocess_exec("sudo", "-n", hub_paths(class_dir)["helper"], *map(str, args),
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"distlab-class-root {args[0]}: {err.decode(errors='replace').strip()[-500:]}")
    return out.decode(errors="replace").strip()


def remove_hub(class_dir):
    """The hub's user and sudoers rule of this class (remove()); CLASS_DIR/hub stays, root's."""
    p, removed = hub_paths(class_dir), []
    if os.path.exists(p["sudoers"]):
        os.remove(p["sudoers"])
    try:
        pw = pwd.getpwnam(hub_user())
    except KeyError:
        pw = None
    if pw is not None and pw.pw_gecos.startswith(HUB_COMMENT) and pw.pw_dir == p["state"]:
        if os.path.isdir(p["state"]):
            adopt_home(p["state"], 0, 0)
        subprocess.run(["userdel", pw.pw_name], check=True, capture_output=True, text=True)
        subprocess.run(["groupdel", pw.pw_name], check=False, capture_output=True)
        removed.append(pw.pw_name)
    try:
        if not grp.getgrnam(learners_group()).gr_mem:
            subprocess.run(["groupdel", learners_group()], check=False, capture_output=True)
    except KeyError:
        pass
    return removed


def main(args):
    if len(args) == 3 and args[0] == "toolchain":
        root, class_dir = os.path.abspath(args[1]), os.path.abspath(args[2])
        try:
            if build_toolchain(root, class_dir):
                print(f"    shared toolchain for the learners: {toolchain_paths(class_dir)['dir']}")
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"error: {e}")
    elif len(args) == 1 and args[0] == "check":
        message = check()
        print(message or "    root: one system user per learner (jupyter-NAME), a home of their own")
    elif len(args) == 4 and args[0] == "hub":
        root, class_dir = os.path.abspath(args[1]), os.path.abspath(args[2])
        try:
            pw = setup_hub(root, class_dir, args[3])
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"error: {e}")
        print(pw.pw_name)
    elif len(args) == 2 and args[0] == "remove":
        removed = remove(os.path.abspath(args[1]))
        print(f"removed {len(removed)} learners' system users: {' '.join(removed) or '(none)'}; "
              f"their folders stay in {os.path.join(os.path.abspath(args[1]), 'home')}, owned by root")
    else:
        sys.exit(__doc__.split("\n\n")[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
