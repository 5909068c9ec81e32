"""Stage 8: the study notes. The executed notebooks of target/notebooks/ (stage 6), with a
learner's answers written in, exported to target/notes/ with PDFs (printed by the test's
Chromium), then read as a reader would: every page in Chromium with print media at the width
of an A4 page, every PDF read back with poppler-utils (distlab_tools.notes_check)."""
import glob
import os
import shutil
import time

import pytest

from distlab_tools import TARGET
from distlab_tools.export_notes import COMBINED, export_all
from distlab_tools.notes_check import check_notes, table, with_answers

pytestmark = pytest.mark.notes


def test_study_notes(executed_notebooks, chromium, browser, figures):
    started = time.monotonic()
    answered = os.path.join(TARGET, "notes-answered")
    notes = os.path.join(TARGET, "notes")
    answers = with_answers(executed_notebooks, answered)
    shutil.rmtree(notes, ignore_errors=True)
    export_all(sorted(glob.glob(os.path.join(answered, "*.ipynb"))), notes, chromium, executed=True, browser=browser)
    exported = time.monotonic() - started
    problems, rows = check_notes(notes, answered, answers, browser=browser)
    combined = next((r for r in rows if r[0] == COMBINED + ".html"), None)
    figures("\n".join(table(rows)))
    figures(f"{len(answers)} answers written and found; combined PDF {combined[5] if combined else '?'} pages; "
            f"export {exported:.1f} s, check {time.monotonic() - started - exported:.1f} s; notes in target/notes/")
    assert not problems, "\n".join(problems)
