"""A learner's mistakes, 200 of them, each must show under the cell that made it.

Builds a notebook of N cells that each end in a distlab error returned with `?` (an invalid
loss, a different value in every cell), interleaved with N working cells that each read a
variable made before the first failure (it must still hold what the previous working cell
stored) and change it. Executes it in the real
evcxr kernel (nbclient) and checks:
  - every error shows under its own cell, with its own value, N of N;
  - no error text under any other cell;
  - every variable defined before a failure is still there after it.

The suite runs it in stage 6 (tests/py/test_notebooks.py), beside the lesson's notebooks.

Usage: python -m distlab_tools.error_cells [N]   (default 200; exit code 1 on any misplaced error)
       python -m distlab_tools.error_cells --jupyterlab [N]   the same check with the cells run
                 in JupyterLab in headless Chromium (distlab_tools.jupyterlab), as a learner's
                 Run All would
       python -m distlab_tools.error_cells --write PATH [N]   only write the notebook
"""
import os
import re
import sys
import time

import nbformat

from . import NOTEBOOKS, ROOT, TARGET
from .evcxr_cache import own_cache
from .run_notebooks import ANSI, execute


def bad_value(i):
    return i + 2  # loss must be in [0, 1]: 2, 3, 4, ... are each wrong, and each different


def build(n, crate=".."):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    # One variable, made before the first failure and changed by every working cell: evcxr
    # generates code for every stored variable in every cell, so 400 distinct variables would
    # make each cell slower than the last.
    cells = [nbformat.v4.new_code_cell(f':dep distlab = {{ path = "{crate}" }}'),
             nbformat.v4.new_code_cell("use distlab::prelude::*;\nlet mut kept = 0u64;")]
    for i in range(n):
        err = nbformat.v4.new_code_cell(f"let config_{i} = Config::builder().loss({bad_value(i)}.0).build()?;")
        err.metadata["error_cell"] = i
        err.metadata["distlab"] = {"error": True}
        # The value read back is the cell's result, not a println!: evcxr forwards a cell's
        # stdout from its child process on a thread of its own, and under load a line can
        # arrive after the cell is reported done, when nbclient no longer records it (seen in
        # 2 of 3 runs beside builds). The result travels with the cell's reply.
        ok = nbformat.v4.new_code_cell(f'let shown = kept;\nkept = {i + 1};\nformat!("kept = {{}}", shown)')
        ok.metadata["working_cell"] = i
        cells += [err, ok]
    nb.cells = cells
    return nb


def text_of(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        for value in out.get("data", {}).values():
            parts.append(value if isinstance(value, str) else "".join(value))
        if out.get("output_type") == "error":
            parts.append(out.get("evalue", ""))
    return ANSI.sub("", "".join(parts))


# The block distlab's `Debug` shows; the second form is `Display`'s one line, which a kernel
# without the project's configuration prints (used to measure the "before" figure).
ERROR_LINE = re.compile(r"error: invalid loss\s+field:\s+loss\s+given:\s+(\d+)\s|invalid loss: (\d+) \(allowed")


def check(nb, n):
    own = 0
    problems = []
    for index, cell in enumerate(nb.cells):
        text = text_of(cell)
        shown = [int(a or b) for a, b in ERROR_LINE.findall(text)]
        if "error_cell" in cell.metadata:
            i = cell.metadata["error_cell"]
            if shown == [bad_value(i)]:
                own += 1
            else:
                problems.append(f"cell {index} (error {i}): expected its own error (given {bad_value(i)}), shows {text[:200]!r}")
        else:
            if shown or "error" in text:
                problems.append(f"cell {index}: error text under a cell that did not fail: {text[:200]!r}")
            if "working_cell" in cell.metadata:
                i = cell.metadata["working_cell"]
                if not re.search(rf"kept = {i}\b", text):
                    problems.append(f"cell {index}: variable `kept` lost or wrong after failure {i}: {text[:200]!r}")
    return own, problems


def in_jupyterlab(n):
    """Runs the notebook in JupyterLab and checks what the browser shows under each cell."""
    from .jupyterlab import run_in_jupyterlab

    out = os.path.join(TARGET, "browser")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "error-cells.ipynb")
    nb = build(n, crate=ROOT)
    nbformat.write(nb, path)
    started = time.monotonic()
    result = run_in_jupyterlab([path], run=True, screenshots_dir=out)[0]
    if "cells" not in result:
        print(f"FAIL JupyterLab did not run the notebook: {result.get('problems')}")
        return 1
    seconds = time.monotonic() - started
    shown = {c["index"]: c for c in result["cells"]}
    for index, cell in enumerate(nb.cells):
        texts = [o.get("text") or "" for o in shown.get(index, {}).get("outputs", [])]
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(texts)}]
    own, problems = check(nb, n)
    for p in problems[:20]:
        print(f"FAIL {p}")
    print(f"JupyterLab: errors under their own cell: {own} of {n}; misplaced or missing: {n - own}; "
          f"{result['cells_run']} of {result['code_cells']} code cells run in {seconds:.1f} s")
    return 1 if problems else 0


def run(n):
    """Executes the notebook of n erroring cells in the kernel (its executed copy kept in
    target/notebooks/error-cells.ipynb); returns (problems, a line of figures)."""
    nb = build(n)
    started = time.monotonic()
    execute(nb, NOTEBOOKS)
    seconds = time.monotonic() - started
    out = os.path.join(TARGET, "notebooks")
    os.makedirs(out, exist_ok=True)
    nbformat.write(nb, os.path.join(out, "error-cells.ipynb"))
    own, problems = check(nb, n)
    return problems, (f"errors under their own cell: {own} of {n}; misplaced or missing: {n - own}; "
                      f"other problems: {len(problems) - (n - own)}; {len(nb.cells)} cells in {seconds:.1f} s")


def main(argv):
    if argv[:1] == ["--jupyterlab"]:
        return in_jupyterlab(int(argv[1]) if len(argv) > 1 else 200)
    if argv[:1] == ["--write"]:
        n = int(argv[2]) if len(argv) > 2 else 200
        nbformat.write(build(n), argv[1])
        return 0
    problems, figures = run(int(argv[0]) if argv else 200)
    for p in problems[:20]:
        print(f"FAIL {p}")
    print(figures)
    print(f"error cells: {0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    # Its own evcxr cache: another kernel may run beside it (distlab_tools.evcxr_cache).
    own_cache(ROOT, "error-cells")
    sys.exit(main(sys.argv[1:]))
