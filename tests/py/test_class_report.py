"""Stage 1: the teacher's view of a class (`./lab class report`, distlab_tools.class_report).

A fake class is built in tmp_path from copies of the lesson's notebooks/*.ipynb, with what
learners leave in them written in by the test: answers (written in different ways, some of
them hostile HTML and markdown), guesses, the saved outputs of graded predictions, the quizzes,
the definitions' self-check and notebook 07's checks, and cells run. Seven learners have a
folder: five who answered differently, one who answered nothing (fresh copies), one whose
notebooks are malformed (not JSON; JSON without cells); one more is on the list with no folder.
No kernel, hub or browser: the report reads files only.
"""
import copy
import csv
import html
import io
import json
import os
import re
import shutil
import stat
import subprocess
from html.parser import HTMLParser

import pytest

from distlab_tools import NOTEBOOKS, ROOT, class_report
from distlab_tools.class_report import CHECK_CELL, CSP, csv_cell

pytestmark = pytest.mark.lesson

LEARNERS = ["ana", "ben", "chloe", "dan", "eve"]
FRESH, BROKEN, ABSENT = "fred", "gus", "hana"
STEPS = {1: "echo", 2: "acknowledge once", 3: "retry on a timer", 4: "broadcast", 5: "majority register"}
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           '"><svg onload=alert(1)>']
GENERATED = "2026-01-01 00:00 UTC"


def lesson(name):
    with open(os.path.join(NOTEBOOKS, name), encoding="utf-8") as f:
        return json.load(f)


def src(cell):
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def prediction_html(guess, measured, close):
    e = html.escape
    return (f'<div class="distlab-prediction"><div><b>the question</b></div>'
            f"<div>your prediction: <b>{e(guess) if guess else '(not written yet)'}</b> &middot; measured: <b>{e(measured)}</b></div>"
            f"<div>close? {e(close)}</div><div>why: because</div></div>")


def html_output(markup, count):
    return {"output_type": "execute_result", "execution_count": count, "metadata": {},
            "data": {"text/html": markup, "text/plain": "shown as HTML"}}


def answer_for(learner, nb_name, k):
    """What `learner` writes into the k-th answer cell of a notebook (None: nothing)."""
    stem = nb_name[:2]
    if learner == "ana":
        return f"ana {stem}#{k}: {HOSTILE[k % len(HOSTILE)]} and my words"
    if learner == "ben":
        return f"ben {stem}#{k}: messages are lost,\nclocks drift"
    if learner == "chloe":
        return f"chloe {stem}#{k}: =HYPERLINK(\"http://evil\") a network of independent computers"
    if learner == "dan":
        return f"dan {stem}#{k}: " + " ".join(HOSTILE)
    if learner == "eve":
        return f"eve {stem}#{k}: only the first" if k == 1 else None
    return None


def fill(nb, nb_name, learner, index):
    """Writes what learner number `index` did into a copy of a lesson notebook."""
    nb = copy.deepcopy(nb)
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    # Cells run: everything for ana, fewer for the others (eve ran nothing).
    ran = {"ana": len(code), "ben": len(code) // 2, "chloe": 3, "dan": len(code), "eve": 0}[learner]
    for n, c in enumerate(code):
        c["execution_count"] = n + 1 if n < ran else None
    k = 0
    for i, cell in enumerate(cells):
        if "answer" in tags(cell) and cell["cell_type"] == "markdown":
            k += 1
            text = answer_for(learner, nb_name, k)
            if text is None:
                continue
            if learner == "ana":  # replaces the placeholder
                cell["source"] = re.sub(r"\*\([^)]*\)\*", lambda _: text, src(cell)) if "*(" in src(cell) else src(cell) + " " + text
            elif learner == "ben":  # keeps the prompt and writes below it
                cell["source"] = src(cell) + "\n\n" + text
            else:  # writes over the whole cell
                cell["source"] = text
        elif "prediction" in tags(cell) and cell["cell_type"] == "code":
            guess = {"ana": "5", "ben": "0.9", "chloe": "<script>alert(2)</script>", "dan": "", "eve": "b"}[learner]
            cell["source"] = src(cell).replace('""', json.dumps(guess), 1)
            later = next(c for c in cells[i + 1:] if c["cell_type"] == "code")
            if "quiz.grade" in src(later) or later["execution_count"] is None:
                continue
            close = {"ana": "yes", "ben": "no, 0.2 off", "chloe": "yes", "dan": "no prediction yet: write a guess",
                     "eve": "no, another choice"}[learner]
            if learner == "ben":  # printed as text, as notebook 04 does once
                later["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [
                    "the question\n", f"  your prediction: {guess} | measured: 5\n", f"  close? {close}\n", "  why: because\n"]}]
            else:
                later["outputs"] = [html_output(prediction_html(guess, "5", close), later["execution_count"])]
    for c in code:
        if c["execution_count"] is None:
            continue
        s = src(c)
        if "quiz.grade(&my_quiz)" in s:
            c["outputs"] = [html_output(
                "<div class=\"distlab-table\"><p><strong>your quiz answers</strong></p><table><tr><td>1</td></tr></table>"
                f"<p>{index + 3} of 10 right (1 not answered yet)</p></div>", c["execution_count"])]
        elif "quiz.grade(my_prediction)" in s:
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [
                "your answers, graded by vector clocks\n", "  pair  your answer\n", f"{index} of 4 right.\n"]}]
        elif "Glossary::builtin()" in s and "answer" in tags(c):
            c["outputs"] = [html_output(
                "<div class=\"distlab-table\"><p><strong>your definitions beside the model answers: "
                f"{index} flagged, 2 to compare, 1 not written yet</strong></p></div>", c["execution_count"])]
        m = CHECK_CELL.search(s)
        if m:
            step = int(m.group(1))
            passed = 200 if step <= index + 1 else 17
            title = f"step {step}: {STEPS[step]}"
            if m.group(2) == "check":
                markup = f"<div class=\"distlab-table\"><p><strong>{title}: passed {passed} of 200 seeds</strong></p></div>"
            else:
                verdict = "passed: the whole scope explored" if learner == "ana" else "failed: linearizable register"
                markup = f"<div class=\"distlab-table\"><p><strong>{title}: exhaustive search, {verdict}</strong></p></div>"
            c["outputs"] = [html_output(markup, c["execution_count"])]
    if learner == "ana" and nb_name.startswith("01"):
        # A learner can put anything into a saved output: hostile HTML in a graded guess.
        for c in code:
            if c.get("outputs") and "distlab-prediction" in json.dumps(c["outputs"]):
                c["outputs"] = [html_output(prediction_html("x", "5", "yes").replace(
                    "<b>x</b>", '<b><script>alert(3)</script><a href="javascript:alert(4)">y</a></b>'), 1)]
                break
    return nb


def notebooks_dir(class_dir, name):
    d = os.path.join(class_dir, "home", name, "distlab", "notebooks")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """(class dir, report dir, {file: (bytes, mtime_ns)} of every learner file before the report)."""
    root = tmp_path_factory.mktemp("class")
    names = sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb"))
    for index, learner in enumerate(LEARNERS):
        d = notebooks_dir(root, learner)
        for name in names:
            if learner == "eve" and name.startswith("06"):
                continue  # deleted
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                json.dump(fill(lesson(name), name, learner, index), f, indent=1)
    d = notebooks_dir(root, FRESH)
    for name in names:
        shutil.copyfile(os.path.join(NOTEBOOKS, name), os.path.join(d, name))
    d = notebooks_dir(root, BROKEN)
    for name in names:
        shutil.copyfile(os.path.join(NOTEBOOKS, name), os.path.join(d, name))
    with open(os.path.join(d, names[2]), "w") as f:
        f.write('{\n "cells": [\n  {"cell_type": "markdown",\n')  # cut short: line 4, column 1
    with open(os.path.join(d, names[3]), "w") as f:
        f.write('{"metadata": {}, "nbformat": 4}\n')
    with open(root / "users.txt", "w") as f:
        f.write("# the class\n" + "\n".join(reversed(LEARNERS + [FRESH, BROKEN, ABSENT])) + "\n")
    before = {}
    for dirpath, _, files in os.walk(root / "home"):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                before[p] = (f.read(), os.stat(p).st_mtime_ns)
    out, learners, summaries = class_report.build_report(str(root), generated=GENERATED)
    return root, out, before, learners, summaries


def read(out, name):
    with open(os.path.join(out, name), encoding="utf-8") as f:
        return f.read()


def grades(out):
    return {row["learner"]: row for row in csv.DictReader(io.StringIO(read(out, "grades.csv")))}


def test_the_report_has_an_index_a_page_per_learner_and_per_question(klass):
    root, out, *_ = klass
    assert out == os.path.join(str(root), "report")
    files = sorted(os.listdir(out))
    for name in LEARNERS + [FRESH, BROKEN, ABSENT]:
        assert f"learner-{name}.html" in files
    questions = [f for f in files if f.startswith("q-")]
    answer_cells = sum(1 for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb")
                       for c in lesson(n)["cells"] if "answer" in tags(c))
    assert len(questions) == answer_cells
    index = read(out, "index.html")
    rows = re.findall(r'<tr><td><a href="learner-([a-z]+)\.html">', index)
    assert rows == sorted(LEARNERS + [FRESH, BROKEN, ABSENT]), "one row per learner, sorted"
    for q in questions:
        assert f'href="{q}"' in index


def test_grades_csv_counts_progress_predictions_quizzes_and_steps(klass):
    _, out, *_ = klass
    g = grades(out)
    assert list(g) == sorted(LEARNERS + [FRESH, BROKEN, ABSENT])
    first = next(csv.reader(io.StringIO(read(out, "grades.csv"))))
    code01 = sum(1 for c in lesson("01-what-is-a-distributed-system.ipynb")["cells"] if c["cell_type"] == "code")
    assert f"01 cells run (of {code01})" in first
    assert g["ana"][f"01 cells run (of {code01})"] == str(code01)
    assert g["ben"][f"01 cells run (of {code01})"] == str(code01 // 2)
    assert g["eve"][f"01 cells run (of {code01})"] == "0"
    assert g[FRESH][f"01 cells run (of {code01})"] == "0"
    # ana's guesses are all graded close but 03's clocks quiz (0 of 4 right); dan wrote none; eve ran nothing.
    assert int(g["ana"]["predictions close"]) == int(g["ana"]["predictions graded"]) - 1 > 5
    assert g["ben"]["predictions close"] == "0" and int(g["ben"]["predictions graded"]) > 0
    assert g["dan"]["predictions graded"] == "0" and g["eve"]["predictions graded"] == "0"
    assert g["ana"]["05 scenario quiz (of 10)"] == "3" and g["dan"]["05 scenario quiz (of 10)"] == "6"
    assert g["dan"]["03 clocks quiz (of 4)"] == "3" and g["chloe"]["03 clocks quiz (of 4)"] == "not run"
    assert g["ben"]["05 definitions flagged"] == "1"
    assert g["eve"]["05 scenario quiz (of 10)"] == "not run" and g[FRESH]["03 clocks quiz (of 4)"] == "not run"
    # Steps up to index + 1 pass their 200 seeds; ana's search passed, the others' failed (step 5).
    assert g["ana"]["07 steps passed (of 5)"] == "1"
    assert g["ben"]["07 steps passed (of 5)"] == "2"
    assert g["dan"]["07 steps passed (of 5)"] == "4"
    assert g[FRESH]["07 steps passed (of 5)"] == "0"
    assert g[ABSENT]["status"] == "not started"
    assert int(g["ana"]["answers written"]) > 20 and g[FRESH]["answers written"] == "0"


def test_every_answer_side_by_side_as_written(klass):
    _, out, *_ = klass
    page = read(out, "q-01-1.html")
    for learner in LEARNERS:
        want = answer_for(learner, "01", 1)
        assert html.escape(want, quote=True) in page, learner
    assert "no answer yet" in page  # fred
    assert "not started" in page  # hana
    # ben kept the prompt and wrote below it: only his words are the answer.
    assert "<pre>ben 01#1: messages are lost,\nclocks drift</pre>" in page
    # The question is named by its heading; the lesson's prompt is shown.
    assert "Go further" in page
    page = read(out, "q-05-2.html")
    assert "which of your definitions miss something" in page
    # eve answered only the first question of each notebook.
    assert "eve 05#2" not in page
    gus = read(out, "q-03-1.html")
    assert "03-simulation.ipynb: JSON, but not a notebook: it has no list of cells" in gus


def test_predictions_show_guess_measured_and_close(klass):
    _, out, *_ = klass
    ana = read(out, "learner-ana.html")
    assert "<pre>5</pre>" in ana and '<span class="yes">yes</span>' in ana
    ben = read(out, "learner-ben.html")
    assert "<pre>0.9</pre>" in ben and '<span class="no">no</span>' in ben  # read from printed text
    dan = read(out, "learner-dan.html")
    assert "none written" in dan and "no guess" in dan
    eve = read(out, "learner-eve.html")
    assert "not run" in eve
    chloe = read(out, "learner-chloe.html")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in chloe


def test_notebook_07_verdicts_per_step(klass):
    _, out, *_ = klass
    ben = read(out, "learner-ben.html")
    assert "step 3: retry on a timer" in ben
    assert "passed 200 of 200 seeds" in ben and "passed 17 of 200 seeds" in ben
    assert "step 5: majority register" not in ben  # ben stopped before step 5's cells
    dan = read(out, "learner-dan.html")
    assert "<td>step 4: broadcast</td><td>passed 200 of 200 seeds</td>" in dan
    assert "<td>step 5: majority register</td><td>passed 17 of 200 seeds</td><td>failed: linearizable register</td>" in dan
    ana = read(out, "learner-ana.html")
    assert "passed: the whole scope explored" in ana


def test_malformed_missing_and_not_started_are_reported_not_fatal(klass):
    _, out, _, learners, summaries = klass
    gus = read(out, "learner-gus.html")
    assert "02-architectures.ipynb: not JSON: line 4, column 1" in gus
    assert "03-simulation.ipynb: JSON, but not a notebook: it has no list of cells" in gus
    assert "code cells run: 0 of" in gus  # the readable notebooks are still reported
    assert "02-architectures.ipynb: not JSON: line 4, column 1" in grades(out)[BROKEN]["problems"]
    assert "06-real-network.ipynb: missing" in read(out, "learner-eve.html")
    assert "not started" in read(out, "learner-hana.html")
    index = read(out, "index.html")
    assert "not JSON: line 4, column 1" in index and "not started" in index


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.csp = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy":
            self.csp.append(dict(attrs).get("content"))


def test_learner_text_is_shown_as_text_and_runs_nothing(klass):
    _, out, *_ = klass
    pages = [n for n in os.listdir(out) if n.endswith(".html")]
    for name in pages:
        text = read(out, name)
        p = Tags()
        p.feed(text)
        assert p.csp == [CSP], f"{name}: one strict Content-Security-Policy"
        assert CSP == "default-src 'none'; style-src 'unsafe-inline'"
        assert not {"script", "img", "svg", "iframe", "object", "embed", "form", "base"} & set(p.tags), name
        for tag, attr, value in p.attrs:
            assert not attr.startswith("on"), f"{name}: <{tag} {attr}>"
            assert "javascript:" not in value.lower(), f"{name}: <{tag} {attr}={value!r}>"
            if attr == "href":
                assert re.fullmatch(r"(index|learner-[a-z0-9._-]+|q-\d\d-\d+)\.html|grades\.csv", value), value
        assert "<script>alert" not in text and "onerror=alert(1)>" not in text.replace("&gt;", "")
    dan = read(out, "q-01-1.html")
    for bad in HOSTILE:
        assert html.escape(bad, quote=True) in dan, bad  # shown as written
    # A graded guess holding HTML in ana's saved output shows as text, its link as words.
    ana = read(out, "learner-ana.html")
    assert "alert(3)" in ana
    assert "<a href=\"javascript" not in ana


def test_csv_guards_against_formulas():
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    for lead in "+-@\t\r":
        assert csv_cell(lead + "1") == "'" + lead + "1"
    assert csv_cell("ana") == "ana" and csv_cell(3) == "3" and csv_cell(None) == ""


def test_learner_files_are_untouched_and_the_report_is_private(klass):
    root, out, before, *_ = klass
    after = {}
    for dirpath, _, files in os.walk(root / "home"):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                after[p] = (f.read(), os.stat(p).st_mtime_ns)
    assert after == before, "the report changed or added a file in a learner's folder"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    for name in os.listdir(out):
        assert stat.S_IMODE(os.stat(os.path.join(out, name)).st_mode) == 0o600, name


def test_the_report_is_deterministic(klass, tmp_path):
    root, out, *_ = klass
    again, *_ = class_report.build_report(str(root), out=str(tmp_path / "again"), generated=GENERATED)
    assert sorted(os.listdir(again)) == sorted(os.listdir(out))
    for name in os.listdir(out):
        assert read(again, name) == read(out, name), name


def test_out_inside_a_learners_folder_is_refused(klass):
    root, *_ = klass
    with pytest.raises(class_report.ClassError, match="never writes there"):
        class_report.build_report(str(root), out=str(root / "home" / "ana" / "report"))


def test_the_command_line(klass, tmp_path, capsys):
    root, *_ = klass
    assert class_report.main(["--dir", str(root), "--out", str(tmp_path / "r")]) == 0
    said = capsys.readouterr().out
    assert "report on 8 learners (1 not started, 3 notebooks missing or unreadable)" in said
    assert os.path.exists(tmp_path / "r" / "index.html")
    assert class_report.main(["--bogus"]) == 2
    assert class_report.main(["--dir"]) == 2
    usage = subprocess.run(["bash", os.path.join(ROOT, "lab"), "class", "report", "--help"],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and "--out DIR" in usage.stdout, usage.stderr
    wrong = subprocess.run(["bash", os.path.join(ROOT, "lab"), "class", "report", "--nope"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "unknown option" in wrong.stderr


def test_a_learners_symlinks_are_not_followed(tmp_path):
    """Run as root, the report would read whatever a link points at as the learner's own:
    another learner's notebook or folder, a system file. Links are reported, never followed."""
    names = sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb"))
    d = notebooks_dir(tmp_path, "ana")
    for name in names:
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            json.dump(fill(lesson(name), name, "ana", 0), f, indent=1)
    ivy = notebooks_dir(tmp_path, "ivy")
    for name in names:
        os.symlink(os.path.join(d, name), os.path.join(ivy, name))  # every notebook is ana's
    os.makedirs(os.path.join(tmp_path, "home", "jon", "distlab"))
    os.symlink(d, os.path.join(tmp_path, "home", "jon", "distlab", "notebooks"))
    os.symlink(os.path.join(tmp_path, "home", "ana"), os.path.join(tmp_path, "home", "kim"))
    with open(tmp_path / "users.txt", "w") as f:
        f.write("ana\nivy\njon\nkim\n")
    out, learners, summaries = class_report.build_report(str(tmp_path), generated=GENERATED)
    ana_words = "and my words"  # in every answer of ana's
    assert ana_words in read(out, "learner-ana.html")
    for who in ("ivy", "jon", "kim"):
        assert ana_words not in read(out, f"learner-{who}.html"), f"{who}'s link was followed"
    assert f"a symlink (ivy/distlab/notebooks/{names[0]}): not followed" in read(out, "learner-ivy.html")
    assert "not read: distlab/notebooks is a symlink (jon/distlab/notebooks): not followed" in read(out, "learner-jon.html")
    assert "not read: their folder is a symlink (kim): not followed" in read(out, "learner-kim.html")
