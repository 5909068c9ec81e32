"""Stage 1: ./lab class grade's pieces that need no root, hub or kernel (distlab_tools.class_grade):
what a learner's process prints is cleaned before root keeps it, sizes parse as ./lab class's,
grading refuses to run a learner's code as anyone but them, and the report shows a grade.
Stage 10 grades a real learner as their own user."""
import json
import os

import pytest

from distlab_tools import class_grade, class_report

pytestmark = pytest.mark.lesson


def test_a_learners_output_keeps_only_the_fields_of_a_grade():
    raw = {"user": "jupyter-ana", "uid": 1001, "cells": 36, "errors": 0, "seconds": 12.5, "cgroup": "0::/x",
           "checks": {"1": {"title": "step 1: echo", "seeds": [200, 200], "search": None, "extra": "<script>"},
                      "2": {"title": "x" * 5000, "seeds": ["200", 200], "search": ["failed", "why"]},
                      "../etc": {"seeds": [1, 1]}, "3": "not a dict"},
           "admin": True, "problem": 7}
    out = class_grade.clean(raw)
    assert set(out) == {"user", "uid", "cgroup", "cells", "errors", "problem", "seconds", "checks"}
    assert out["problem"] is None and "admin" not in out
    assert set(out["checks"]) == {"1", "2"}
    assert out["checks"]["1"] == {"title": "step 1: echo", "seeds": [200, 200], "search": None}
    assert out["checks"]["2"]["seeds"] == [None, 200] and len(out["checks"]["2"]["title"]) == 300
    assert class_grade.passed(out) == 1


def test_nothing_usable_is_no_grade():
    assert class_grade.clean({}) == {"user": None, "uid": None, "cgroup": None, "cells": None, "errors": None,
                                     "problem": None, "seconds": None, "checks": {}}
    assert class_grade.clean({"checks": [1, 2], "uid": True, "cells": -1})["checks"] == {}


@pytest.mark.parametrize("text,value", [("2G", 2 * 2**30), ("512M", 512 * 2**20), ("1.5G", 3 * 2**29)])
def test_sizes_as_lab_class_takes_them(text, value):
    assert class_grade.parse_size(text) == value


@pytest.mark.parametrize("text", ["2", "2GB", "-1G", "", "G"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValueError):
        class_grade.parse_size(text)


def test_not_root_grading_refuses(capsys, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert class_grade.main(["--dir", "/nonexistent"]) == 1
    assert "never runs a learner's code as you" in capsys.readouterr().err


def test_bad_options_name_the_value(capsys, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert class_grade.main(["--mem", "lots"]) == 2
    assert "--mem lots" in capsys.readouterr().err
    assert class_grade.main(["--dir", "/nonexistent-class", "--learner", "nobody-here"]) == 2
    assert "no learner 'nobody-here'" in capsys.readouterr().err
    assert class_grade.main(["--frobnicate"]) == 2


def test_the_report_shows_a_grade_beside_the_saved_checks(tmp_path):
    (tmp_path / "home" / "ana" / "distlab" / "notebooks").mkdir(parents=True)
    (tmp_path / "users.txt").write_text("ana\nben\n")
    (tmp_path / "grades").mkdir()
    grade = class_grade.clean({"user": "jupyter-ana", "errors": 0, "checks": {
        "1": {"title": "step 1: <script>alert(1)</script>", "seeds": [200, 200], "search": None},
        "2": {"title": "step 2: acknowledge once", "seeds": [3, 200], "search": None}}})
    grade.update(learner="ana", limits="memory 2.0 GiB, 1 CPU", wall_seconds=80.0, graded="2026-01-01 00:00 UTC")
    (tmp_path / "grades" / "ana.json").write_text(json.dumps(grade))
    (tmp_path / "grades" / "ben.json").write_text("{not json")
    out, learners, _ = class_report.build_report(str(tmp_path), generated="2026-01-01 00:00 UTC")
    index = open(os.path.join(out, "index.html")).read()
    row = index[index.index("learner-ana.html"):]
    assert "1 of 5 (2026-01-01 00:00 UTC)" in row[:row.index("</tr>")], row[:2000]
    page = open(os.path.join(out, "learner-ana.html")).read()
    assert "Run as jupyter-ana by ./lab class grade" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "1 of 5" in open(os.path.join(out, "grades.csv")).read()
