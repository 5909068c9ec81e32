"""The notebook kernel's set-up: its configuration, its registration, and a warm cache.

    evcxr_kernel.py install ROOT     writes .venv/evcxr/ and registers the kernel "rust" in .venv
    evcxr_kernel.py class ROOT DIR   registers the class's kernel in DIR/jupyter (see below)
    evcxr_kernel.py warm ROOT        compiles distlab once into evcxr's cache (skipped when the
                                     sources, the kernel and rustc are those of the last warm-up)

Why each part exists (figures: README, "Performance"; the measurements: distlab_tools.notebook_speed):

- **A configuration made for this checkout**, `.venv/evcxr/` (EVCXR_CONFIG_DIR): the committed
  start-up commands (tools/evcxr/init.evcxr, prelude.rs) plus two lines that load distlab when
  the kernel starts, `:dep distlab = { path = "<this checkout>" }`,
  `use distlab::prelude::*;` and one `let` (rust-analyzer's first analysis of a `let`). The kernel starts when a notebook opens, while the learner reads
  its first lines; loading distlab then means the notebook's own first cell
  (`:dep distlab = { path = ".." }`, the same path once evcxr has made it absolute) finds it
  loaded, and rust-analyzer, which evcxr runs on every cell, has already read distlab and its
  dependencies (about 3 s that the first cell would otherwise wait). The path is absolute, so
  it is written here, not committed.
- **distlab optimized and cached**: the kernel's TMPDIR is `.venv/evcxr/tmp`, whose
  `.cargo/config.toml` links to tools/evcxr/cargo-config.toml (opt-level 3 and no incremental
  build for distlab). evcxr builds every cell in a folder under TMPDIR, so cargo reads it there.
  Without incremental compilation evcxr's cache keeps distlab's build; build.rs puts a hash of
  the sources on rustc's command line, so an edit is never served stale.
- **A warm cache**: `warm` starts the kernel once, so the first notebook opened after a change
  does not wait for distlab's optimized build (about 40 s on 2 cores). It also tells, before
  JupyterLab opens, when distlab does not compile: a kernel whose start-up fails stops.

The class (`./lab class`) registers its own kernel with the committed configuration only:
every learner loads distlab from their own folder (distlab_tools.classroom).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

KERNEL = "rust"
STAMP = "warm.stamp"


def config_dir(root):
    return os.path.join(root, ".venv", "evcxr")


def write_if_changed(path, text):
    """Writes `text` to `path` unless it already holds exactly that (a file rewritten with the
    same text would look changed to whatever watches it). Also used by distlab_tools.classroom."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def toml_string(text):
    """`text` as a TOML basic string (the form evcxr's :dep reads)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(root):
    """The kernel's configuration folder for this checkout; returns its path."""
    committed = os.path.join(root, "tools", "evcxr")
    target = config_dir(root)
    os.makedirs(os.path.join(target, "tmp", ".cargo"), exist_ok=True)
    init = open(os.path.join(committed, "init.evcxr"), encoding="utf-8").read()
    init += (
        "// Added by distlab_tools.evcxr_kernel: distlab loads while the notebook opens.\n"
        f":dep distlab = {{ path = {toml_string(os.path.realpath(root))} }}\n"
    )
    write_if_changed(os.path.join(target, "init.evcxr"), init)
    prelude = open(os.path.join(committed, "prelude.rs"), encoding="utf-8").read()
    # evcxr asks rust-analyzer for the type of every `let`; its first such analysis reads
    # distlab and all its dependencies (about 3 s on 2 cores, measured). One `let` here makes it
    # happen while the notebook opens instead of in the learner's first cell that has a `let`.
    prelude += (
        "// Added by distlab_tools.evcxr_kernel: distlab loads, and is analysed, while the notebook opens.\n"
        "use distlab::prelude::*;\n"
        "let distlab_kernel_ready = true;\n"
    )
    write_if_changed(os.path.join(target, "prelude.rs"), prelude)
    link = os.path.join(target, "tmp", ".cargo", "config.toml")
    want = os.path.join(committed, "cargo-config.toml")
    if not (os.path.islink(link) and os.readlink(link) == want):
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(want, link)
    return target


def register(kernel_dir, config, tmpdir=None):
    """Writes the kernel spec into `kernel_dir` (evcxr_jupyter's own, with our environment)."""
    binary = shutil.which("evcxr_jupyter") or os.path.expanduser("~/.cargo/bin/evcxr_jupyter")
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: evcxr_jupyter is not installed ({binary})")
    env = {"EVCXR_CONFIG_DIR": config}
    if tmpdir:
        env["TMPDIR"] = tmpdir
    spec = {
        "argv": [binary, "--control_file", "{connection_file}"],
        "display_name": "Rust",
        "language": "rust",
        "interrupt_mode": "message",
        "env": env,
    }
    if not os.path.exists(os.path.join(kernel_dir, "logo-64x64.png")):
        # evcxr_jupyter --install writes its logos beside the spec; the spec is rewritten below.
        data = os.path.dirname(os.path.dirname(kernel_dir))
        subprocess.run([binary, "--install"], check=True, capture_output=True,
                       env=dict(os.environ, JUPYTER_PATH=data, JUPYTER_DATA_DIR=data))
    os.makedirs(kernel_dir, exist_ok=True)
    write_if_changed(os.path.join(kernel_dir, "kernel.json"), json.dumps(spec, indent=2) + "\n")


def install(root):
    config = write_config(root)
    kernel_dir = os.path.join(root, ".venv", "share", "jupyter", "kernels", KERNEL)
    register(kernel_dir, config, tmpdir=os.path.join(config, "tmp"))
    return kernel_dir


def class_kernels(class_dir):
    """Where the class's kernel spec lives (first on its servers' JUPYTER_PATH)."""
    return os.path.join(class_dir, "jupyter")


def install_class(root, class_dir):
    """The class's kernel: the committed configuration only (no distlab loaded at start, no
    optimized build), because each learner's notebooks load distlab from their own folder,
    a different path for each learner and so a build of its own."""
    kernel_dir = os.path.join(class_kernels(class_dir), "kernels", KERNEL)
    register(kernel_dir, os.path.join(root, "tools", "evcxr"))
    return kernel_dir


def stamp(root):
    """What a warm cache depends on: the checkout's path (it is part of distlab's key in the
    cache: another clone with the same sources has builds of its own), distlab's sources (as
    build.rs hashes them), the kernel's configuration, evcxr's and rustc's versions."""
    digest = hashlib.sha256(os.path.realpath(root).encode() + b"\0")
    parts = [os.path.join(root, "Cargo.toml"), os.path.join(root, "Cargo.lock")]
    for top in ("src", "data", os.path.join("tools", "evcxr")):
        for d, _, names in os.walk(os.path.join(root, top)):
            parts += [os.path.join(d, n) for n in names]
    for path in sorted(parts):
        digest.update(os.path.relpath(path, root).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
    for cmd in (["evcxr_jupyter", "--version"], ["rustc", "-V"]):
        try:
            digest.update(subprocess.run(cmd, capture_output=True, check=True).stdout)
        except (OSError, subprocess.CalledProcessError) as e:
            digest.update(str(e).encode())
    return digest.hexdigest()


def warm(root, cache_home=None, force=False):
    """Starts the kernel once (cwd notebooks/) and runs one cell, so evcxr's cache holds
    distlab's optimized build. Returns 0, or 1 when the kernel could not start."""
    cache_home = cache_home or os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    # Beside evcxr's cache, not in it: caches made of hard links to it (distlab_tools.evcxr_cache)
    # must not share the stamp, or warming one would mark them all warm.
    stamp_file = os.path.join(cache_home, "distlab-evcxr-" + STAMP)
    want = stamp(root)
    try:
        if not force and open(stamp_file).read() == want:
            return 0
    except OSError:
        pass
    from jupyter_client.manager import start_new_kernel

    print("    Compiling distlab for the notebooks, optimized, into evcxr's cache (once per change; "
          "about 40 s on 2 cores)", flush=True)
    started = time.monotonic()
    env = dict(os.environ, XDG_CACHE_HOME=cache_home)
    try:
        km, kc = start_new_kernel(kernel_name=KERNEL, cwd=os.path.join(root, "notebooks"),
                                  startup_timeout=900, env=env)
    except RuntimeError as e:
        print(f"error: the Rust kernel did not start: {e}. If distlab does not compile, "
              "`cargo build` shows why.")
        return 1
    try:
        errors = []
        kc.execute_interactive("let distlab_warm = Config::builder().build().is_ok();", timeout=600,
                               output_hook=lambda m: m["msg_type"] == "error" and errors.append(m["content"]["evalue"]))
    finally:
        km.shutdown_kernel(now=True)
    if errors:
        print(f"error: the kernel started but a first cell failed: {errors[0]}")
        return 1
    os.makedirs(os.path.dirname(stamp_file), exist_ok=True)
    with open(stamp_file + ".partial", "w") as f:
        f.write(want)
    os.replace(stamp_file + ".partial", stamp_file)
    print(f"    done in {time.monotonic() - started:.0f} s")
    return 0


def main(args):
    if not ((len(args) == 2 and args[0] in ("install", "warm")) or (len(args) == 3 and args[0] == "class")):
        print(__doc__.split("\n\n")[1])
        return 2
    root = os.path.abspath(args[1])
    if args[0] == "install":
        print(install(root))
    elif args[0] == "class":
        print(install_class(root, os.path.abspath(args[2])))
    else:
        return warm(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
