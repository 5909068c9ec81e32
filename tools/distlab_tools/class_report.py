"""The teacher's view of a class (`./lab class report`): what every learner wrote and ran,
read from their saved notebooks, as static HTML pages and a CSV for a gradebook.

    CLASS_DIR/users.txt                                  the learners (distlab_tools.classroom)
    CLASS_DIR/home/NAME/distlab/notebooks/NN-*.ipynb     each learner's copy of the lesson

What is gathered, per learner and lesson notebook (notebooks/*.ipynb of the project):
  - answers: markdown cells tagged `answer` (the text after the bold `**Your answer:**` and the
    lesson's own prompt; the lesson's placeholder `*(...)*` is not an answer), and code cells
    tagged `answer` (notebook 05's definitions, quiz letters, diagrams) when their source differs
    from the lesson's;
  - predictions: the guess in each code cell tagged `prediction` (`let my_prediction = "...";`)
    and, from the saved output of a later cell that shows a graded `Prediction`, the guess it
    graded, the measured value and "close?" (yes / no / no guess / not run);
  - quizzes and self-checks saved in outputs: notebook 03's clocks quiz ("N of 4 right."),
    05's scenario quiz ("N of 10 right") and 05's definitions self-check ("F flagged, C to
    compare, U not written yet");
  - progress: code cells with an execution count, of all code cells;
  - notebook 07's checks: the learner's own check cells (`exercises::...(StepN).check()` and
    `.explore(...)`), "passed N of M seeds" and "exhaustive search, failed/passed/unknown" per step.

Everything is read from the files as saved: nothing is executed, and nothing in a learner's
folder is written (files are opened read-only; only regular files up to MAX_BYTES are read, so
a device or a huge file cannot stall the report). No symlink is followed below CLASS_DIR/home:
run as root, the report would otherwise read whatever a learner's link points at (another
learner's notebook, a system file) as theirs. A notebook that is not JSON, or
JSON without a list of cells, is reported with what is wrong and where; a learner on the list
without a folder is "not started".

Written to OUT (default CLASS_DIR/report, made with mode 0700; files 0600):
  index.html           the class at a glance: one row per learner, links to the other pages
  learner-NAME.html    one learner: every notebook, answer, prediction, score and check
  q-NN-K.html          one question: every learner's answer side by side
  grades.csv           one row per learner, for a gradebook
A learner's words reach the teacher's browser as text: every learner string is HTML-escaped
and shown in <pre> (a `<script>` in an answer shows as written), no learner text ever becomes
an attribute or a link, saved outputs are read as text (their HTML is never passed on), and
every page carries a Content-Security-Policy that allows no script, image, frame or fetch.
In grades.csv a cell starting with =, +, -, @, a tab or a carriage return gets a leading
apostrophe, so a spreadsheet shows it as text instead of running it as a formula.

Usage: python -m distlab_tools.class_report [--dir CLASS_DIR] [--out DIR] [--users FILE]
"""
import csv
import datetime
import html
import io
import json
import os
import re
import stat
import sys
from html.parser import HTMLParser

from . import NOTEBOOKS, ROOT
from .classroom import NAME, ClassError, parse_options, read_users

MAX_BYTES = 64 * 2**20  # a bigger file is reported, not read
CSP = "default-src 'none'; style-src 'unsafe-inline'"
ANSWER_PREFIX = re.compile(r"^\s*\*\*Your answer:\*\*\s*")
PLACEHOLDER = re.compile(r"\*\([^)]*\)\*")
GUESS = re.compile(r'let\s+my_prediction\s*(?::\s*&\s*str\s*)?=\s*(r#*)?"(.*?)"#*\s*;', re.S)
CHECK_CELL = re.compile(r"exercises::\w+\(\s*Step(\d+)\s*\)\s*\.\s*(check|explore)\b")
SEEDS = re.compile(r"^(step (\d+): [^\n]*?): passed (\d+) of (\d+) seeds$", re.M)
SEARCH = re.compile(r"^(step (\d+): [^\n]*?): exhaustive search, (failed|passed|unknown)(?:: ([^\n]*))?$", re.M)
CLOCKS_QUIZ = re.compile(r"graded by vector clocks.*?^\s*(\d+) of (\d+) right\.", re.M | re.S)
SCENARIO_QUIZ = re.compile(r"your quiz answers.*?^\s*(\d+) of (\d+) right(?: \((\d+) not answered yet\))?", re.M | re.S)
SELF_CHECK = re.compile(r"your definitions beside the model answers: (\d+) flagged, (\d+) to compare, (\d+) not written yet")
REVEAL = re.compile(r"Your guesses against the trace \(seed \d+\): (\d+) of (\d+) right")
PRED_LINE = re.compile(r"your prediction:\s*(.*?)\s*(?:·|\|)\s*(measured|exact):\s*(.*)$")
RIGHT = re.compile(r"(\d+) of (\d+) right")
CLOSE_LINE = re.compile(r"^\s*close\?\s*(.*)$")


# --- reading files, never writing them --------------------------------------------------------

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_beneath(base, parts):
    """A read-only descriptor of base/parts[0]/.../parts[-1], opened one component at a time
    without following a symlink anywhere below `base` (a link is refused: "a symlink"), or
    (None, why). The last part is opened without blocking (a FIFO must not stall the report)."""
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None, "missing"
    except OSError as e:
        return None, f"cannot be read: {e.strerror}"
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            flags = os.O_RDONLY | NOFOLLOW | (getattr(os, "O_NONBLOCK", 0) if last else os.O_DIRECTORY)
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return None, "missing"
            if stat.S_ISLNK(st.st_mode):
                return None, f"a symlink ({'/'.join(parts[:i + 1])}): not followed"
            try:
                nxt = os.open(part, flags, dir_fd=fd)
            except OSError as e:
                return None, f"cannot be read: {e.strerror}"
            os.close(fd)
            fd = nxt
        out, fd = fd, None
        return out, None
    finally:
        if fd is not None:
            os.close(fd)


def read_bytes(path, base=None):
    """(bytes, None) or (None, why): only a regular file of at most MAX_BYTES, opened
    read-only; below `base` (default: the file's folder), no symlink is followed."""
    base = base or os.path.dirname(path)
    rel = os.path.relpath(path, base)
    if rel.startswith(".."):
        raise ValueError(f"{path} is not below {base}")
    fd, why = open_beneath(base, rel.split(os.sep))
    if fd is None:
        return None, why
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file"
        if st.st_size > MAX_BYTES:
            return None, f"too large to read ({st.st_size} bytes, the report reads up to {MAX_BYTES})"
        return f.read(MAX_BYTES + 1), None


def load_notebook(path, base=None):
    """(notebook dict, None) or (None, what is wrong, naming line and column for bad JSON)."""
    data, why = read_bytes(path, base)
    if data is None:
        return None, why
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 text (byte {e.start})"
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"not JSON: line {e.lineno}, column {e.colno}: {e.msg}"
    except RecursionError:
        return None, "not readable JSON: nested too deeply"
    if not isinstance(nb, dict):
        return None, f"JSON, but not a notebook: the top level is {type(nb).__name__}, not an object"
    if not isinstance(nb.get("cells"), list):
        return None, "JSON, but not a notebook: it has no list of cells"
    return nb, None


def text_of(value):
    """A notebook's multi-line string: a string or a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def cells_of(nb):
    return [c for c in nb.get("cells", []) if isinstance(c, dict)]


def tags_of(cell):
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


class _Text(HTMLParser):
    """An HTML output as plain text: block elements become line breaks, nothing else is kept."""

    BLOCKS = {"div", "p", "br", "tr", "li", "table", "pre", "h1", "h2", "h3", "h4"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_text(markup):
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # a malformed output is read as far as it goes
        pass
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def output_text(cell):
    """Everything a code cell's saved outputs say, as text (HTML read as text)."""
    parts = []
    outputs = cell.get("outputs")
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream":  # consecutive prints join as they were printed
            parts.append(text_of(out.get("text")))
            continue
        data = out.get("data")
        if not isinstance(data, dict):
            continue
        if "text/html" in data:
            parts.append("\n" + html_text(text_of(data["text/html"])) + "\n")
        elif "text/plain" in data:
            parts.append("\n" + text_of(data["text/plain"]) + "\n")
    return "".join(parts)


def was_run(cell):
    count = cell.get("execution_count")
    return isinstance(count, int) and not isinstance(count, bool)


# --- the lesson's questions -------------------------------------------------------------------

def first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def prompt_parts(lesson_source):
    """(prompt, placeholders) of a lesson's markdown answer cell: the words after
    `**Your answer:**` without the italic `*(...)*` placeholders, and those placeholders."""
    rest = ANSWER_PREFIX.sub("", lesson_source, count=1)
    holders = PLACEHOLDER.findall(rest)
    return " ".join(PLACEHOLDER.sub("", rest).split()), holders


def lesson_questions(lesson_dir=NOTEBOOKS):
    """{notebook name: [question]} for every lesson notebook: each answer cell and each
    prediction cell, in order, with the cell's id, its prompt and the heading above it."""
    found = {}
    for name in sorted(n for n in os.listdir(lesson_dir) if n.endswith(".ipynb")):
        nb, why = load_notebook(os.path.join(lesson_dir, name))
        if nb is None:
            raise ClassError(f"the lesson's {name} cannot be read: {why}")
        stem = name[:2] if name[:2].isdigit() else name[:-len(".ipynb")]
        items, context, counts = [], "", {"answer": 0, "prediction": 0}
        code_cells = 0
        for cell in cells_of(nb):
            tags, kind = tags_of(cell), None
            source = text_of(cell.get("source"))
            if cell.get("cell_type") == "code":
                code_cells += 1
            if "answer" in tags:
                kind = "answer"
            elif "prediction" in tags and cell.get("cell_type") == "code":
                kind = "prediction"
            if kind:
                counts[kind] += 1
                if cell.get("cell_type") == "markdown":
                    prompt, holders = prompt_parts(source)
                else:
                    comment = first_line(source)
                    prompt, holders = comment.lstrip("/ ").strip() if comment.startswith("//") else "", []
                items.append({
                    "kind": kind, "number": counts[kind], "id": cell.get("id"), "cell_type": cell.get("cell_type"),
                    "source": source, "prompt": prompt, "placeholders": holders, "context": context,
                    "page": f"q-{stem}-{counts[kind]}.html" if kind == "answer" else None, "notebook": name,
                })
            elif cell.get("cell_type") == "markdown" and source.strip():
                heading = next((line for line in source.splitlines() if line.startswith("#")), None)
                if heading or not context:
                    context = (heading or first_line(source)).lstrip("#* ").strip()
        found[name] = {"questions": items, "code_cells": code_cells}
    return found


def question_label(q):
    """The heading above the cell, then the cell's own prompt (or "(code)" for a code cell)."""
    label, prompt = q["context"], q["prompt"] or ("(code)" if q["cell_type"] == "code" else "")
    if prompt and prompt != label:
        label = f"{label}: {prompt}" if label else prompt
    return label or f"answer {q['number']}"


# --- one learner's notebook -------------------------------------------------------------------

def answer_text(q, source):
    """The learner's answer in a cell that was the lesson's question q ("" if none)."""
    if source.strip() == q["source"].strip():
        return ""
    if q["cell_type"] != "markdown":
        return source.strip()
    text = ANSWER_PREFIX.sub("", source, count=1)
    for holder in q["placeholders"]:
        text = text.replace(holder, "")
    text = text.strip()
    if q["prompt"]:
        squashed = " ".join(text.split())
        if squashed.startswith(q["prompt"]):
            # Drop the prompt's words, however the learner's lines wrap them.
            words = len(q["prompt"].split())
            text = re.sub(r"^\s*" + r"\s+".join(r"\S+" for _ in range(words)), "", text, count=1)
    return text.strip()


def guess_of(source):
    m = GUESS.search(source)
    if not m:
        return None
    raw = m.group(2)
    if not m.group(1):  # a plain Rust string: its common escapes
        raw = re.sub(r'\\(["\\nt])', lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)), raw)
    return raw


def graded_prediction(text):
    """(graded guess, label, measured, close) from a Prediction shown as HTML or as text, or
    from the two guesses graded otherwise: notebook 01's reveal of the three silences and 03's
    clocks quiz (close is then "K of N right", or "no guess")."""
    if "Nothing revealed yet" in text:
        return "", "measured", "", "no guess"
    for pattern in (REVEAL, CLOCKS_QUIZ):
        m = pattern.search(text)
        if m:
            return None, "graded", f"{m.group(1)} of {m.group(2)} right", f"{m.group(1)} of {m.group(2)} right"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = PRED_LINE.search(line)
        if not m:
            continue
        close_text = ""
        for later in lines[i + 1:i + 3]:
            c = CLOSE_LINE.match(later)
            if c:
                close_text = c.group(1).strip()
                break
        if close_text == "yes":
            close = "yes"
        elif close_text.startswith("no prediction yet"):
            close = "no guess"
        elif close_text.startswith("no"):
            close = "no"
        else:
            close = "unreadable"
        guess = m.group(1).strip()
        return ("" if guess == "(not written yet)" else guess), m.group(2), m.group(3).strip(), close
    return None


def match_cells(questions, cells):
    """{question index: cell}: by the cell's id (kept when JupyterLab saves), else the learner's
    remaining cells with the same tag, in order. Returns (matched, extra answer cells)."""
    by_id = {}
    for c in cells:
        if isinstance(c.get("id"), str):
            by_id.setdefault(c["id"], c)
    matched, used = {}, set()
    for i, q in enumerate(questions):
        c = by_id.get(q["id"]) if q["id"] else None
        if c is not None and q["kind"] in tags_of(c):
            matched[i] = c
            used.add(id(c))
    for kind in ("answer", "prediction"):
        rest = [c for c in cells if kind in tags_of(c) and id(c) not in used]
        for i, q in enumerate(questions):
            if q["kind"] == kind and i not in matched and rest:
                c = rest.pop(0)
                matched[i] = c
                used.add(id(c))
    extra = [c for c in cells if "answer" in tags_of(c) and id(c) not in used]
    return matched, extra


def read_learner_notebook(path, lesson, base=None):
    """What one learner's copy of a lesson notebook holds (see the module's docstring)."""
    nb, why = load_notebook(path, base)
    if nb is None:
        return {"problem": why}
    cells = cells_of(nb)
    code = [c for c in cells if c.get("cell_type") == "code"]
    result = {"problem": None, "run": sum(1 for c in code if was_run(c)), "code": len(code),
              "answers": [], "predictions": [], "scores": {}, "checks": {}, "extra": []}
    questions = lesson["questions"]
    matched, extra = match_cells(questions, cells)
    result["extra"] = [text_of(c.get("source")).strip() for c in extra]
    position = {id(c): i for i, c in enumerate(cells)}
    for i, q in enumerate(questions):
        cell = matched.get(i)
        source = text_of(cell.get("source")) if cell is not None else None
        if q["kind"] == "answer":
            result["answers"].append({"q": q, "text": answer_text(q, source) if source is not None else None})
            continue
        entry = {"q": q, "guess": guess_of(source) if source is not None else None,
                 "graded": None, "measured": None, "label": None, "close": "not run"}
        if cell is None:
            entry["close"] = "cell missing"
        else:
            # The graded Prediction: in the first later code cell (before the next prediction)
            # whose saved output shows one.
            start = position[id(cell)] + 1
            for later in cells[start:]:
                if "prediction" in tags_of(later):
                    break
                if later.get("cell_type") != "code":
                    continue
                found = graded_prediction(output_text(later)) if was_run(later) else None
                if found:
                    entry["graded"], entry["label"], entry["measured"], entry["close"] = found
                    if RIGHT.fullmatch(entry["close"]) and not entry["guess"]:
                        entry["close"] = "no guess"  # graded, but nothing was guessed
                    break
        result["predictions"].append(entry)
    for cell in code:
        if not was_run(cell):
            continue
        text = output_text(cell)
        for key, pattern in (("clocks quiz", CLOCKS_QUIZ), ("scenario quiz", SCENARIO_QUIZ)):
            m = pattern.search(text)
            if m:
                result["scores"][key] = (int(m.group(1)), int(m.group(2)))
        m = SELF_CHECK.search(text)
        if m:
            result["scores"]["definitions"] = tuple(int(g) for g in m.groups())
    result["checks"] = checks_of(code)
    return result


def checks_of(code):
    """Notebook 07's verdicts, {step: {title, seeds: (passed, of), search: (verdict, why)}},
    from the outputs of the run check cells among the code cells `code` (as saved, or as
    just run by ./lab class grade)."""
    checks = {}
    for cell in code:
        if not was_run(cell):
            continue
        check = CHECK_CELL.search(text_of(cell.get("source")))
        if not check:
            continue
        text = output_text(cell)
        step = int(check.group(1))
        entry = checks.setdefault(step, {"title": None, "seeds": None, "search": None})
        for s in SEEDS.finditer(text):
            if int(s.group(2)) == step:
                entry["title"] = s.group(1)
                entry["seeds"] = (int(s.group(3)), int(s.group(4)))
        for s in SEARCH.finditer(text):
            if int(s.group(2)) == step:
                entry["title"] = entry["title"] or s.group(1)
                entry["search"] = (s.group(3), (s.group(4) or "").strip())
    return checks


def step_passed(check):
    """A step passes when its saved check passed every seed and its search, if saved, did not fail."""
    seeds = check.get("seeds")
    if not seeds or seeds[0] != seeds[1] or seeds[1] == 0:
        return False
    return not (check.get("search") and check["search"][0] == "failed")


def read_learner(class_dir, name, lesson):
    """One learner: status ("not started", "no notebooks folder", "ok") and their notebooks."""
    homes = os.path.join(class_dir, "home")
    folder = os.path.join(homes, name, "distlab", "notebooks")
    learner = {"name": name, "status": "ok", "notebooks": {}, "other": [], "run_grade": read_grade(class_dir, name)}
    fd, why = open_beneath(homes, [name])
    if fd is None:
        learner["status"] = "not started" if why == "missing" else f"not read: their folder is {why}"
        return learner
    os.close(fd)
    fd, why = open_beneath(homes, [name, "distlab", "notebooks"])
    if fd is None:
        learner["status"] = ("not started (no distlab/notebooks folder yet)" if why == "missing"
                             else f"not read: distlab/notebooks is {why}")
        return learner
    try:
        learner["other"] = sorted(n for n in os.listdir(fd) if n.endswith(".ipynb") and n not in lesson)
    except OSError:
        pass
    finally:
        os.close(fd)
    for nb_name in lesson:
        learner["notebooks"][nb_name] = read_learner_notebook(os.path.join(folder, nb_name), lesson[nb_name], homes)
    return learner


def read_grade(class_dir, name):
    """CLASS_DIR/grades/NAME.json, written by ./lab class grade (07 run as the learner), or None."""
    data, _ = read_bytes(os.path.join(class_dir, "grades", f"{name}.json"), class_dir)
    try:
        grade = json.loads(data) if data else None
    except (ValueError, RecursionError):
        return None
    return grade if isinstance(grade, dict) and isinstance(grade.get("checks"), dict) else None


def grade_checks(grade):
    """A run grade's checks in the shape checks_of gives: {step: {title, seeds, search}}."""
    out = {}
    for step, c in grade["checks"].items():
        if str(step).isdigit() and isinstance(c, dict):
            out[int(step)] = {"title": c.get("title"), "seeds": tuple(c["seeds"]) if c.get("seeds") else None,
                              "search": tuple(c["search"]) if c.get("search") else None}
    return out


def run_grade_text(grade, when=True):
    """One line: what running the learner's 07 as them gave (and when, for the index)."""
    if grade is None:
        return "not graded"
    if grade.get("problem"):
        return f"not graded: {grade['problem']}"
    passed = sum(1 for c in grade_checks(grade).values() if step_passed(c))
    return f"{passed} of 5 ({grade.get('graded', '?')})" if when else f"{passed} of 5 steps passed"


def summary(learner, lesson):
    """The figures of index.html and grades.csv for one learner."""
    s = {"run": {}, "answers": 0, "questions": 0, "close": 0, "graded": 0, "guesses": 0,
         "predictions": 0, "clocks": None, "scenario": None, "definitions": None, "steps": 0,
         "problems": []}
    for nb_name, info in lesson.items():
        s["questions"] += sum(1 for q in info["questions"] if q["kind"] == "answer")
        s["predictions"] += sum(1 for q in info["questions"] if q["kind"] == "prediction")
        nb = learner["notebooks"].get(nb_name)
        if nb is None:
            continue
        if nb["problem"]:
            s["problems"].append(f"{nb_name}: {nb['problem']}")
            continue
        s["run"][nb_name] = (nb["run"], nb["code"])
        s["answers"] += sum(1 for a in nb["answers"] if a["text"])
        for p in nb["predictions"]:
            s["guesses"] += bool(p["guess"])
            right = RIGHT.fullmatch(p["close"])
            s["graded"] += p["close"] in ("yes", "no") or bool(right)
            s["close"] += p["close"] == "yes" or bool(right and right.group(1) == right.group(2))
        scores = nb["scores"]
        if "clocks quiz" in scores:
            s["clocks"] = scores["clocks quiz"]
        if "scenario quiz" in scores:
            s["scenario"] = scores["scenario quiz"]
        if "definitions" in scores:
            s["definitions"] = scores["definitions"]
        s["steps"] += sum(1 for c in nb["checks"].values() if step_passed(c))
    return s


# --- HTML -------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f8; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
td pre, .answer pre { background: #f7f8fc; padding: 0.3em 0.5em; border-radius: 3px; }
.none { color: #888; font-style: italic; }
.problem { color: #a00; }
.yes { color: #007a55; font-weight: bold; }
.no { color: #b54400; }
.muted { color: #666; font-size: 0.9em; }
nav { margin-bottom: 1em; font-size: 0.9em; }
"""


def esc(text):
    return html.escape(str(text), quote=True)


def pre(text):
    """A learner's string, exactly as written, as text."""
    return f"<pre>{esc(text)}</pre>"


def none(text):
    return f'<span class="none">{esc(text)}</span>'


def page(title, body, generated=None):
    gen = f'<p class="muted">generated {esc(generated)}</p>' if generated else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"<h1>{esc(title)}</h1>\n{gen}{body}\n</body></html>\n")


def learner_page_name(name):
    # Names follow classroom.NAME ([a-z0-9._-]); anything else is spelled out safely.
    safe = name if NAME.fullmatch(name) else re.sub(r"[^a-z0-9._-]", "_", name)
    return f"learner-{safe}.html"


def link(href, text):
    # href is always one of this report's own file names, never a learner's text.
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def fraction(pair):
    return f"{pair[0]} of {pair[1]}" if pair else "not run"


def progress_cell(learner, s, nb_name):
    nb = learner["notebooks"].get(nb_name)
    if nb is None:
        return none("-")
    if nb["problem"]:
        return f'<span class="problem">{esc(nb["problem"])}</span>'
    run, code = s["run"][nb_name]
    return esc(f"{run}/{code}")


def close_html(close):
    cls = {"yes": "yes", "no": "no"}.get(close)
    return f'<span class="{cls}">{esc(close)}</span>' if cls else esc(close)


def index_html(learners, lesson, summaries, generated, extra_folders):
    nb_names = list(lesson)
    head = "".join(f"<th>{esc(n[:2])}</th>" for n in nb_names)
    rows = []
    for learner in learners:
        s = summaries[learner["name"]]
        name_cell = link(learner_page_name(learner["name"]), learner["name"])
        if learner["status"] != "ok":
            rows.append(f"<tr><td>{name_cell}</td><td colspan=\"{len(nb_names) + 7}\">{none(learner['status'])}</td></tr>")
            continue
        cells = "".join(f"<td>{progress_cell(learner, s, n)}</td>" for n in nb_names)
        defs = s["definitions"]
        rows.append(
            f"<tr><td>{name_cell}</td>{cells}"
            f"<td>{esc(s['answers'])} of {esc(s['questions'])}</td>"
            f"<td>{esc(s['close'])} close of {esc(s['graded'])} graded ({esc(s['guesses'])} guesses)</td>"
            f"<td>{esc(fraction(s['clocks']))}</td><td>{esc(fraction(s['scenario']))}</td>"
            f"<td>{esc(f'{defs[0]} flagged, {defs[1]} to compare, {defs[2]} not written' if defs else 'not run')}</td>"
            f"<td>{esc(s['steps'])} of 5</td><td>{esc(run_grade_text(learner['run_grade']))}</td></tr>")
        if s["problems"]:
            rows.append(f"<tr><td></td><td colspan=\"{len(nb_names) + 7}\" class=\"problem\">"
                        + "<br>".join(esc(p) for p in s["problems"]) + "</td></tr>")
    table = (f"<table><tr><th>learner</th>{head}<th>answers written</th><th>predictions</th>"
             "<th>03 clocks quiz</th><th>05 scenario quiz</th><th>05 definitions</th><th>07 steps passed</th>"
             "<th>07 run as them</th></tr>"
             + "\n".join(rows) + "</table>")
    explain = ('<p class="muted">Columns 00 to 07: code cells run, of the notebook\'s code cells, as saved. '
               "A prediction is graded once its grading cell ran after a guess was written; a 07 step is passed "
               "when the learner's saved check passed every seed and their search, if saved, did not fail. "
               "\"07 run as them\": the steps passed when ./lab class grade last ran their saved notebook 07, "
               "as their own user, within their server's limits. "
               f'{link("grades.csv", "grades.csv")} holds the same for a gradebook.</p>')
    questions = []
    for nb_name, info in lesson.items():
        items = [f"<li>{link(q['page'], question_label(q))}</li>" for q in info["questions"] if q["kind"] == "answer"]
        if items:
            questions.append(f"<h3>{esc(nb_name)}</h3><ul>{''.join(items)}</ul>")
    extra = ""
    if extra_folders:
        extra = ("<p class=\"muted\">Folders in home/ of no one on the list (not reported): "
                 + ", ".join(esc(n) for n in extra_folders) + "</p>")
    body = (f"<h2>Learners ({len(learners)})</h2>{table}{explain}{extra}"
            f"<h2>Questions: every learner's answer side by side</h2>{''.join(questions)}")
    return page("distlab class report", body, generated)


def question_html(q, learners):
    rows = []
    for learner in learners:
        name = link(learner_page_name(learner["name"]), learner["name"])
        nb = learner["notebooks"].get(q["notebook"])
        if learner["status"] != "ok":
            shown = none(learner["status"])
        elif nb is None or nb["problem"]:
            shown = f'<span class="problem">{esc(q["notebook"])}: {esc(nb["problem"] if nb else "missing")}</span>'
        else:
            a = next(a for a in nb["answers"] if a["q"] is q)
            shown = none("cell missing") if a["text"] is None else (pre(a["text"]) if a["text"] else none("no answer yet"))
        rows.append(f"<tr><td>{name}</td><td>{shown}</td></tr>")
    body = (f'<nav>{link("index.html", "the class")}</nav>'
            f"<p>{esc(q['notebook'])}, answer {esc(q['number'])}, under “{esc(q['context'])}”</p>"
            f"<div>Prompt, as the lesson wrote it:</div>{pre(q['source'].strip())}"
            f"<table><tr><th>learner</th><th>answer, as written</th></tr>{''.join(rows)}</table>")
    return page(f"{q['notebook'][:2]}: {question_label(q)}", body)


def checks_table(checks):
    rows = []
    for step, c in sorted(checks.items()):
        seeds = f"passed {c['seeds'][0]} of {c['seeds'][1]} seeds" if c["seeds"] else "not run"
        search = "" if not c["search"] else f"{c['search'][0]}" + (f": {c['search'][1]}" if c["search"][1] else "")
        rows.append(f"<tr><td>{esc(c['title'] or f'step {step}')}</td><td>{esc(seeds)}</td>"
                    f"<td>{esc(search or '-')}</td><td>{close_html('yes' if step_passed(c) else 'no')}</td></tr>")
    return ("<table><tr><th>step</th><th>200 seeds</th><th>exhaustive search</th><th>passed?</th></tr>"
            f"{''.join(rows)}</table>")


def learner_html(learner, lesson, s):
    parts = [f'<nav>{link("index.html", "the class")}</nav>']
    if learner["status"] != "ok":
        parts.append(f"<p>{none(learner['status'])}</p>")
        return page(f"learner {learner['name']}", "".join(parts))
    for nb_name, info in lesson.items():
        nb = learner["notebooks"][nb_name]
        parts.append(f"<h2>{esc(nb_name)}</h2>")
        grade = learner["run_grade"]
        if nb_name.startswith("07") and grade is not None:
            ran = (f"Run as {grade.get('user')} by ./lab class grade ({grade.get('graded')}, {grade.get('limits')}, "
                   f"{grade.get('wall_seconds')} s): {run_grade_text(grade, when=False)}, {grade.get('errors')} cells with errors")
            parts.append(f"<p>{esc(ran)}</p>" + ("" if grade.get("problem") else checks_table(grade_checks(grade))))
        if nb["problem"]:
            parts.append(f'<p class="problem">{esc(nb_name)}: {esc(nb["problem"])}</p>')
            continue
        parts.append(f"<p>code cells run: {esc(nb['run'])} of {esc(nb['code'])}</p>")
        if nb["answers"]:
            rows = []
            for a in nb["answers"]:
                text = a["text"]
                shown = none("cell missing") if text is None else (pre(text) if text else none("no answer yet"))
                rows.append(f"<tr><td>{link(a['q']['page'], question_label(a['q']))}</td><td>{shown}</td></tr>")
            parts.append(f"<table><tr><th>question</th><th>answer, as written</th></tr>{''.join(rows)}</table>")
        if nb["predictions"]:
            rows = []
            for p in nb["predictions"]:
                guess = pre(p["guess"]) if p["guess"] else none("none written")
                graded = "" if p["graded"] is None else (pre(p["graded"]) if p["graded"] else none("none"))
                measured = pre(p["measured"]) if p["measured"] else none("-")
                label = esc(p["label"] or "measured")
                rows.append(f"<tr><td>{esc(p['q']['prompt'])}</td><td>{guess}</td><td>{graded}</td>"
                            f"<td>{label}: {measured}</td><td>{close_html(p['close'])}</td></tr>")
            parts.append("<table><tr><th>prediction</th><th>guess in the cell</th><th>guess as graded</th>"
                         f"<th>measured</th><th>close?</th></tr>{''.join(rows)}</table>")
        for key, value in sorted(nb["scores"].items()):
            if key == "definitions":
                shown = f"{value[0]} flagged, {value[1]} to compare, {value[2]} not written yet"
            else:
                shown = f"{value[0]} of {value[1]} right"
            parts.append(f"<p>{esc(key)}: {esc(shown)}</p>")
        if nb["checks"]:
            parts.append("<p>Checks as saved by the learner:</p>" + checks_table(nb["checks"]))
        if nb["extra"]:
            parts.append("<p>Answer cells the learner added:</p>" + "".join(pre(t) for t in nb["extra"]))
    if learner["other"]:
        parts.append("<p class=\"muted\">Other notebooks in the folder (not reported): "
                     + ", ".join(esc(n) for n in learner["other"]) + "</p>")
    return page(f"learner {learner['name']}", "".join(parts))


# --- CSV --------------------------------------------------------------------------------------

def csv_cell(value):
    """A spreadsheet would run a cell starting with =, +, -, @ (or a tab or CR) as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def grades_csv(learners, lesson, summaries):
    nb_names = list(lesson)
    header = ["learner", "status"]
    header += [f"{n[:2]} cells run (of {lesson[n]['code_cells']})" for n in nb_names]
    header += ["answers written", "predictions close", "predictions graded", "03 clocks quiz (of 4)",
               "05 scenario quiz (of 10)", "05 definitions flagged", "07 steps passed (of 5)", "07 run as them", "problems"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for learner in learners:
        s = summaries[learner["name"]]
        ok = learner["status"] == "ok"
        row = [learner["name"], learner["status"]]
        row += [s["run"][n][0] if n in s["run"] else "" for n in nb_names]
        if ok:
            row += [s["answers"], s["close"], s["graded"],
                    s["clocks"][0] if s["clocks"] else "not run", s["scenario"][0] if s["scenario"] else "not run",
                    s["definitions"][0] if s["definitions"] else "not run", s["steps"],
                    run_grade_text(learner["run_grade"]), "; ".join(s["problems"])]
        else:
            row += [""] * 9
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


# --- the report -------------------------------------------------------------------------------

def make_out_dir(out, group=None):
    """The report's folder: the maker's alone (0700), or also readable by `group` (0750: the
    hub's group, whose web page serves it when root builds it, class_root)."""
    os.makedirs(out, mode=0o700, exist_ok=True)
    if group is not None:
        os.chown(out, -1, group, follow_symlinks=False)
    os.chmod(out, 0o700 if group is None else 0o750)


def write_file(path, text, group=None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        if group is not None:
            os.fchown(f.fileno(), -1, group)
            os.fchmod(f.fileno(), 0o640)
        f.write(text)


def build_report(class_dir, out=None, users=None, lesson_dir=NOTEBOOKS, generated=None, also=(), group=None):
    """Reads the class and writes the report; returns (out, learners, summaries). The learners
    are those of the `users` file (default CLASS_DIR/users.txt) and the names in `also` (the
    hub's users, for the hub's page: the teacher may add learners on the admin page)."""
    class_dir = os.path.abspath(class_dir)
    out = os.path.abspath(out or os.path.join(class_dir, "report"))
    homes = os.path.join(class_dir, "home")
    if os.path.realpath(out).startswith(os.path.realpath(homes) + os.sep):
        raise ClassError(f"--out {out} is inside the learners' folders ({homes}): the report never writes there")
    names = sorted(set(read_users(users or os.path.join(class_dir, "users.txt"))) | set(also))
    lesson = lesson_questions(lesson_dir)
    learners = [read_learner(class_dir, name, lesson) for name in names]
    summaries = {learner["name"]: summary(learner, lesson) for learner in learners}
    try:
        extra_folders = sorted(n for n in os.listdir(homes) if n not in names)
    except OSError:
        extra_folders = []
    if generated is None:
        generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    make_out_dir(out, group)
    pages = {"index.html": index_html(learners, lesson, summaries, generated, extra_folders),
             "grades.csv": grades_csv(learners, lesson, summaries)}
    for info in lesson.values():
        for q in info["questions"]:
            if q["kind"] == "answer":
                pages[q["page"]] = question_html(q, learners)
    for learner in learners:
        pages[learner_page_name(learner["name"])] = learner_html(learner, lesson, summaries[learner["name"]])
    for name, text in pages.items():
        write_file(os.path.join(out, name), text, group)
    # Pages of an earlier run that this one did not write (a learner taken off the list).
    for name in os.listdir(out):
        if name not in pages and re.fullmatch(r"(learner-.*|q-.*)\.html", name):
            os.remove(os.path.join(out, name))
    return out, learners, summaries


USAGE = """usage: ./lab class report [--dir CLASS_DIR] [--out DIR] [--users FILE]
  --dir DIR     the class's state (default: .class in the project)
  --out DIR     where the report goes (default: CLASS_DIR/report, made readable by you only)
  --users FILE  the learners (default: CLASS_DIR/users.txt)
Reads every learner's saved notebooks (CLASS_DIR/home/NAME/distlab/notebooks), changes none,
and writes index.html, a page per learner and per question, and grades.csv."""


def main(args):
    options, done = parse_options(args, {"--dir": os.path.join(ROOT, ".class"), "--out": None, "--users": None},
                                  "./lab class report", USAGE)
    if done is not None:
        return done
    try:
        out, learners, summaries = build_report(options["--dir"], options["--out"], options["--users"])
    except ClassError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    problems = sum(len(s["problems"]) for s in summaries.values())
    waiting = sum(1 for learner in learners if learner["status"] != "ok")
    print(f"distlab: report on {len(learners)} learners ({waiting} not started, {problems} notebooks missing or unreadable) "
          f"in {out}/index.html and {out}/grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
