"""The lesson's time, by the time model, and the lesson's shape.

The time model (the one the lesson is judged by, ../shared/tools/lesson_time.py):

    minutes = prose words / 200 + 0.75 per code cell + 2 per answer cell + 1 per prediction cell

Prose words are the words of markdown cells (inline code counts as one word); answer and
prediction cells are the ones tagged "answer" and "prediction". The core path is the notebooks
whose first cell does not say "go further", without their "Go further" sections (a markdown
heading that starts with "Go further" opens one; the next heading of the same or a higher level
closes it; a cell belongs to the section open at its end). For each notebook this prints the
minutes of its core part and of the whole notebook.

With --check it also fails (exit 1) when the lesson breaks its shape:
- more than 45 minutes on the core path, or fewer than 6 prediction cells on it;
- a time the notebooks state that is not the model's figure, rounded to whole minutes: the
  "about N minutes" in each notebook's first cell (the core part of a core notebook, the whole
  of a go-further one, whose first cell says "Allow about N minutes"), and the minutes column
  of the plan table in 00-start-here (one row per notebook, named in backquotes, and a
  "core path" row with the total);
- a code cell on the core path longer than 15 lines, an `answer` cell that does not start with
  "**Your answer:**", or a `prediction` cell whose guess no later cell reads.

Usage: python -m distlab_tools.lesson_words [--check] [NOTEBOOK...]   (default: notebooks/*.ipynb)
"""
import glob
import json
import os
import re
import sys

from . import NOTEBOOKS

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
STATED = re.compile(r"\babout\s+(\d+)\s+minutes\b", re.I)
PLAN_ROW = re.compile(r"^\|(.*)\|\s*\**(\d+)\**\s*\|\s*$")

CORE_MINUTES = 45
CORE_PREDICTIONS = 6
CORE_CELL_LINES = 15


def words(text):
    text = re.sub(r"`[^`]*`", " x ", text)  # inline code counts as one word
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’.-]*", text))


def minutes(n):
    return n["words"] / 200 + 0.75 * n["code"] + 2 * n["answer"] + n["prediction"]


def rounded(m):
    return int(f"{m:.0f}")


def blank():
    return dict(words=0, code=0, answer=0, prediction=0)


def count(path, problems=None):
    """(core counts, whole-notebook counts, optional?) of one notebook; shape problems are
    appended to `problems`. The core part follows lesson_time.py exactly."""
    cells = json.load(open(path, encoding="utf-8"))["cells"]
    optional = bool(cells) and "go further" in "".join(cells[0]["source"]).lower()
    core, whole = blank(), blank()
    level = None  # heading level of the open "Go further" section
    name = os.path.basename(path)
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown":
            for line in source.splitlines():
                m = HEADING.match(line)
                if m:
                    depth = len(m.group(1))
                    if level is not None and depth <= level:
                        level = None
                    if level is None and m.group(2).strip().lower().startswith("go further"):
                        level = depth
        on_core = not optional and level is None
        for n, counted in ((whole, True), (core, on_core)):
            if not counted:
                continue
            if cell["cell_type"] == "markdown":
                n["words"] += words(source)
            if cell["cell_type"] == "code":
                n["code"] += 1
            if "answer" in tags:
                n["answer"] += 1
            if "prediction" in tags:
                n["prediction"] += 1
        if problems is None:
            continue
        if cell["cell_type"] == "code" and on_core:
            lines = len(source.splitlines())
            if lines > CORE_CELL_LINES:
                problems.append(f"{name} cell {index}: {lines} lines of code on the core path (at most {CORE_CELL_LINES})")
        if "answer" in tags and cell["cell_type"] == "markdown" and not source.startswith("**Your answer:**"):
            problems.append(f"{name} cell {index}: an answer cell must start with **Your answer:**")
        if "prediction" in tags:
            later = "".join("".join(c["source"]) for c in cells[index + 1:] if c["cell_type"] == "code")
            if "my_prediction" not in later:
                problems.append(f"{name} cell {index}: a prediction that no later cell reads")
    return core, whole, optional


def stated_times(path):
    """The "about N minutes" of the first cell, and the plan table's rows (label, minutes)."""
    cells = json.load(open(path, encoding="utf-8"))["cells"]
    header = STATED.findall("".join(cells[0]["source"])) if cells else []
    rows = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            m = PLAN_ROW.match(line.strip())
            if m:
                rows.append((m.group(1), int(m.group(2))))
    return [int(h) for h in header], rows


def lesson(paths=None, check=True):
    """(lines of the report, problems): the model's minutes per notebook and for the core path;
    with `check`, what breaks the lesson's shape (an empty list when nothing does)."""
    paths = paths or sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    problems = [] if check else None
    lines = []
    total = blank()
    figure = {}  # notebook number -> the figure its header and the plan must state
    for p in paths:
        core, whole, optional = count(p, problems)
        for k in total:
            total[k] += core[k]
        number = os.path.basename(p)[:2]
        figure[number] = rounded(minutes(whole if optional else core))
        part = "go further" if optional else f"core {minutes(core):5.1f} min"
        lines.append(
            f"{os.path.basename(p):42} {part:16} whole {minutes(whole):5.1f} min  "
            f"({core['words'] if not optional else whole['words']} words, "
            f"{(whole if optional else core)['prediction']} predictions)"
        )
    core_minutes = minutes(total)
    lines.append(
        f"{'core path':42} {core_minutes:5.1f} min: {total['words']} words, {total['code']} code cells, "
        f"{total['answer']} answer cells, {total['prediction']} predictions"
    )
    if not check:
        return lines, []
    if core_minutes > CORE_MINUTES:
        problems.append(f"{core_minutes:.1f} minutes on the core path (at most {CORE_MINUTES})")
    if total["prediction"] < CORE_PREDICTIONS:
        problems.append(f"{total['prediction']} predictions on the core path (at least {CORE_PREDICTIONS})")
    for p in paths:
        name, number = os.path.basename(p), os.path.basename(p)[:2]
        header, rows = stated_times(p)
        if not header:
            problems.append(f"{name}: the first cell states no time (\"about {figure[number]} minutes\")")
        for h in header:
            if h != figure[number]:
                problems.append(f"{name}: the first cell says about {h} minutes; the model says {figure[number]}")
        for label, stated in rows:
            m = re.search(r"`(\d\d)-[^`]*`", label)
            if m and m.group(1) in figure:
                want, what = figure[m.group(1)], f"the row of {m.group(1)}"
            elif "core path" in label.lower():
                want, what = rounded(core_minutes), "the core path row"
            else:
                continue
            if stated != want:
                problems.append(f"{name}: the plan says {stated} minutes for {what}; the model says {want}")
    return lines, problems


def main(args):
    check = "--check" in args
    lines, problems = lesson([a for a in args if a != "--check"], check)
    print("\n".join(lines))
    if not check:
        return 0
    for p in problems:
        print(f"FAIL {p}")
    print(f"lesson shape: {0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
