"""Fails when a notebook under the given folder holds outputs or execution counts.

Notebooks are committed clean: outputs belong to the learner's run, and a diff of a
notebook should show what changed in the lesson, not in a chart's bytes.
"""
import glob
import json
import os
import sys


def dirty_cells(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    return [
        i
        for i, cell in enumerate(nb.get("cells", []))
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def main(folder):
    paths = sorted(
        p for p in glob.glob(os.path.join(folder, "**", "*.ipynb"), recursive=True) if ".ipynb_checkpoints" not in p
    )
    if not paths:
        print(f"error: no notebooks under {folder}")
        return 1
    bad = 0
    for p in paths:
        try:
            cells = dirty_cells(p)
        except (OSError, ValueError) as e:
            print(f"FAIL {p}: cannot read it as a notebook: {e}")
            bad += 1
            continue
        if cells:
            bad += 1
            print(f"FAIL {p}: committed with outputs or execution counts in cells {cells}.")
            print(f"     Clear them: JupyterLab > Edit > Clear Outputs of All Cells, then save.")
    print(f"clean: {len(paths) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "notebooks"))
