"""Counts the prose a learner reads: markdown words per notebook, on the core path and in total.

The core path is the notebooks 00, 01, 03 and 05 without their "Go further" sections (a
markdown heading that starts with "Go further" opens one; the next heading of the same or a
higher level closes it). A notebook whose first cell says "Go further" is off the core path
entirely. Code, tables and charts are not counted. See tools/NOTEBOOKS.md.

With --check it also fails (exit 1) when the lesson breaks its shape: more than 3,500 prose
words on the core path, a code cell on the core path longer than 15 lines, an `answer` cell
that does not start with "**Your answer:**", or a `prediction` cell whose guess no later cell
reads.

Usage: lesson_words.py [--check] [NOTEBOOK...]   (default: notebooks/*.ipynb)
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


CORE_WORDS = 3500
CORE_CELL_LINES = 15


def count(path, problems=None):
    """(core words, all words) of one notebook; shape problems are appended to `problems`."""
    cells = json.load(open(path))["cells"]
    first = "".join(cells[0]["source"]) if cells else ""
    optional_notebook = "go further" in first.lower()
    core = total = 0
    further_level = None  # heading level of the open "Go further" section
    name = os.path.basename(path)
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if problems is not None:
            if cell["cell_type"] == "code" and not optional_notebook and further_level is None:
                lines = len(source.splitlines())
                if lines > CORE_CELL_LINES:
                    problems.append(f"{name} cell {index}: {lines} lines of code on the core path (at most {CORE_CELL_LINES})")
            if "answer" in tags and cell["cell_type"] == "markdown" and not source.startswith("**Your answer:**"):
                problems.append(f"{name} cell {index}: an answer cell must start with **Your answer:**")
            if "prediction" in tags:
                later = "".join("".join(c["source"]) for c in cells[index + 1:] if c["cell_type"] == "code")
                if "my_prediction" not in later:
                    problems.append(f"{name} cell {index}: a prediction that no later cell reads")
        if cell["cell_type"] != "markdown":
            continue
        for line in source.splitlines():
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


def main(args):
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    problems = [] if check else None
    core_sum = total_sum = 0
    for p in paths:
        core, total = count(p, problems)
        core_sum += core
        total_sum += total
        print(f"{os.path.basename(p):45} core {core:5}  all {total:5}")
    print(f"{'lesson':45} core {core_sum:5}  all {total_sum:5}")
    if not check:
        return 0
    if core_sum > CORE_WORDS:
        problems.append(f"{core_sum} prose words on the core path (at most {CORE_WORDS})")
    for p in problems:
        print(f"FAIL {p}")
    print(f"lesson shape: {0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
