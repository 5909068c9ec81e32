"""Counts the prose a learner reads: markdown words per notebook, on the core path and in total.

The core path is the notebooks 00, 01, 03 and 05 without their "Go further" sections (a
markdown heading that starts with "Go further" opens one; the next heading of the same or a
higher level closes it). A notebook whose first cell says "Go further" is off the core path
entirely. Code, tables and charts are not counted. See tools/NOTEBOOKS.md.

Usage: lesson_words.py [NOTEBOOK...]   (default: notebooks/*.ipynb)
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def words(text):
    text = re.sub(r"`[^`]*`", " x ", text)  # inline code counts as one word
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’.-]*", text))


def count(path):
    """(core words, all words) of one notebook."""
    cells = json.load(open(path))["cells"]
    first = "".join(cells[0]["source"]) if cells else ""
    optional_notebook = "go further" in first.lower()
    core = total = 0
    further_level = None  # heading level of the open "Go further" section
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            m = HEADING.match(line)
            if m:
                level = len(m.group(1))
                if further_level is not None and level <= further_level:
                    further_level = None
                if m.group(2).lower().lstrip("*_ ").startswith("go further"):
                    further_level = level
            n = words(line)
            total += n
            if not optional_notebook and further_level is None:
                core += n
    return core, total


def main(paths):
    paths = paths or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    core_sum = total_sum = 0
    for p in paths:
        core, total = count(p)
        core_sum += core
        total_sum += total
        print(f"{os.path.basename(p):45} core {core:5}  all {total:5}")
    print(f"{'lesson':45} core {core_sum:5}  all {total_sum:5}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
