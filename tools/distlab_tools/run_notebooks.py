"""Executes notebooks in the real evcxr kernel and checks what they show.

nbconvert and nbclient succeed even when a Rust cell panics or a `?` returns an error: evcxr
only prints those (on stderr, which the project's kernel start-up code `tools/evcxr/prelude.rs`
points at stdout so that they stay under their own cell). So every cell's outputs are read
here, and a run fails on:
  - an error output (a compile error),
  - anything on stderr,
  - a panic message, or a distlab error returned with `?` (its red `error:` line), in any
    stream, unless the cell's `distlab` metadata says `"error": true` (a cell that shows a
    mistake on purpose),
  - a cell whose `distlab` metadata expects output it did not give:
        "distlab": {"expect": ["image/svg+xml", "text/html"], "contains": ["Node-1 received"]}
    `expect` lists MIME types the cell must produce; `contains` lists strings that must appear
    in its text or HTML output.
Each failure names the notebook, the cell's index and the error text.

The suite runs every notebook this way in stage 6 (tests/py/test_notebooks.py).

Usage: python -m distlab_tools.run_notebooks NOTEBOOK... ; exits non-zero when any notebook fails.
"""
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

from . import ROOT, TARGET
from .evcxr_cache import own_cache

KERNEL = "rust"
# Executed copies land here, for the scenario tests and for a look after a failure.
EXECUTED_DIR = os.path.join(TARGET, "notebooks")
CELL_TIMEOUT = int(os.environ.get("DISTLAB_CELL_TIMEOUT", "900"))


def execute(nb, cwd, timeout=CELL_TIMEOUT, on_cell=None):
    """Runs every cell of `nb` (in place) with the kernel started in `cwd`."""
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        startup_timeout=180,
        allow_errors=True,
        resources={"metadata": {"path": cwd}},
    )
    if on_cell is not None:
        client.on_cell_executed = on_cell
    client.execute()
    return nb


def cell_text(cell):
    """Everything a cell showed, as text: streams, plain text, HTML, SVG, errors."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n" + "\n".join(out.get("traceback", [])))
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime == "image/svg+xml":
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def mimes(cell):
    found = set()
    for out in cell.get("outputs", []):
        found.update(out.get("data", {}).keys())
    return found


ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The first line of a distlab error as the notebook kernel shows it (src/error.rs, Debug).
ERROR_MARK = "\x1b[1;31merror: "


def problems(nb):
    """(cell index, message) for every failed cell, without terminal colour codes."""
    return [(i, ANSI.sub("", message)) for i, message in _problems(nb)]


def _problems(nb):
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                msg = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
                tb = "\n".join(out.get("traceback", []))
                found.append((i, f"{msg}\n{tb}".strip()))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "").strip()
                if text:
                    found.append((i, f"stderr: {text}"))
        spec = cell.get("metadata", {}).get("distlab", {})
        streams = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if "panicked at" in streams:
            found.append((i, f"panic: {streams.strip()}"))
        elif ERROR_MARK in streams and not spec.get("error"):
            found.append((i, f"an error was shown: {streams.strip()}"))
        have = mimes(cell)
        for mime in spec.get("expect", []):
            if mime not in have:
                found.append((i, f"expected a {mime} output, got {sorted(have) or 'none'}"))
        text = cell_text(cell)
        for needle in spec.get("contains", []):
            if needle not in text:
                found.append((i, f"expected the output to contain {needle!r}; it shows:\n{text[:600]}"))
    return found


def run_one(path):
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    done = [0]

    def progress(cell, cell_index, execute_reply):
        if cell.cell_type == "code":
            done[0] += 1
            print(f"    cell {cell_index:>3} ({done[0]}/{code_cells}) {time.monotonic() - started:6.1f} s", flush=True)

    execute(nb, os.path.dirname(os.path.abspath(path)), on_cell=progress)
    return nb, time.monotonic() - started


def run_and_keep(path):
    """Executes a notebook, keeps its executed copy in EXECUTED_DIR (for the scenario tests and
    for a look after a failure); returns (its problems, seconds)."""
    nb, seconds = run_one(path)
    os.makedirs(EXECUTED_DIR, exist_ok=True)
    nbformat.write(nb, os.path.join(EXECUTED_DIR, os.path.basename(path)))
    return problems(nb), seconds


def main(paths):
    if not paths:
        print("error: no notebooks given")
        return 2
    passed = failed = 0
    for path in paths:
        print(f"--- {path}", flush=True)
        try:
            found, seconds = run_and_keep(path)
        except Exception as e:  # the kernel died or timed out: report and go on
            print(f"FAIL {path}: could not execute: {type(e).__name__}: {e}")
            failed += 1
            continue
        if found:
            failed += 1
            for index, message in found:
                print(f"FAIL {path} cell {index}: {message}")
        else:
            passed += 1
            print(f"ok   {path} in {seconds:.1f} s")
    print(f"notebooks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    # Its own evcxr cache: distlab_tools.error_cells may run beside it (distlab_tools.evcxr_cache).
    own_cache(ROOT, "notebooks")
    sys.exit(main(sys.argv[1:]))
