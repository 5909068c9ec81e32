"""Fails when a notebook under the given folder is not committed clean: `nbstripout --verify`
(with --keep-id: the cells' ids are the notebook's, not output) decides; this adds what
nbstripout does not do: finding every notebook under the folder (.ipynb_checkpoints left out),
failing when there is none, and telling which cells hold outputs or execution counts and how
to clear them.

Notebooks are committed clean: outputs belong to the learner's run, and a diff of a
notebook should show what changed in the lesson, not in a chart's bytes.

Usage: python -m distlab_tools.check_clean [FOLDER]   (default notebooks)
"""
import glob
import json
import os
import re
import subprocess
import sys


def notebooks(folder):
    return sorted(
        p for p in glob.glob(os.path.join(folder, "**", "*.ipynb"), recursive=True) if ".ipynb_checkpoints" not in p
    )


def dirty_cells(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    return [
        i
        for i, cell in enumerate(nb.get("cells", []))
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def verify(paths):
    """{path: problem} for every notebook nbstripout would change or cannot read."""
    nbstripout = os.path.join(os.path.dirname(sys.executable), "nbstripout")
    r = subprocess.run([nbstripout, "--verify", "--keep-id", *paths], capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        m = re.match(r"Dry run: would have stripped (.*)$", line)
        if m:
            cells = dirty_cells(m.group(1))
            found[m.group(1)] = (
                f"committed with outputs or execution counts in cells {cells}.\n"
                "     Clear them: JupyterLab > Edit > Clear Outputs of All Cells, then save."
                if cells else
                f"holds metadata nbstripout strips; clear it with: .venv/bin/nbstripout --keep-id {m.group(1)}"
            )
    if r.returncode and not found:  # nbstripout itself failed: a file that is no notebook
        for p in paths:
            try:
                with open(p, encoding="utf-8") as f:
                    json.load(f)
            except (OSError, ValueError) as e:
                found[p] = f"cannot read it as a notebook: {e}"
        found = found or {"nbstripout": f"exited {r.returncode}: {r.stderr.strip()[-500:]}"}
    return found


def main(folder):
    paths = notebooks(folder)
    if not paths:
        print(f"error: no notebooks under {folder}")
        return 1
    bad = verify(paths)
    for p, problem in bad.items():
        print(f"FAIL {p}: {problem}")
    print(f"clean: {len(paths) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "notebooks"))
