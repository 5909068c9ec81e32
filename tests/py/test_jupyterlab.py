"""Stage 9: the notebooks as a learner sees them, in JupyterLab in headless Chromium (the system
Chromium, through pytest-playwright). Every notebooks/*.ipynb, copied into the server's work
folder (nothing is ever saved into notebooks/), is opened; Run > Run All Cells is clicked and
every code cell waited for. Each must show a visible, decoded chart where its `distlab`
metadata expects image/svg+xml, no error or stderr output (nor a panic or a distlab `error:`
line, unless its metadata says `"error": true`), and every code cell must have run. Then the
copy of 03-simulation that stage 6 executed and saved (JupyterLab does not trust it) is opened
as saved: its charts must still show. A screenshot of each notebook, whole, goes to
target/browser/NN-topic.png, and what every cell showed to target/browser/results.json."""
import json
import os

import pytest

from distlab_tools import NOTEBOOKS, lesson_notebooks
from distlab_tools.jupyterlab import OUT, copy_for_lab, open_and_run, summary

pytestmark = pytest.mark.jupyterlab


@pytest.fixture(scope="module")
def results():
    found = []
    yield found
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(found, f, indent=1)


def shown(r, results, figures, run, untrusted=False):
    results.append(r)
    figures(summary(r, run, untrusted))
    assert not r["problems"], "\n".join(r["problems"])


@pytest.mark.parametrize("name", lesson_notebooks())
def test_run_all(name, jupyterlab, browser, results, figures):
    copy_for_lab(os.path.join(NOTEBOOKS, name), jupyterlab.root_dir)
    r = open_and_run(browser, jupyterlab, name, screenshot=os.path.join(OUT, name[:-len(".ipynb")] + ".png"))
    shown(r, results, figures, run=True)


def test_saved_run_is_untrusted_and_shows_its_charts(jupyterlab, browser, executed_notebooks, results, figures):
    rel = "untrusted-03-simulation.ipynb"
    copy_for_lab(os.path.join(executed_notebooks, "03-simulation.ipynb"), jupyterlab.root_dir, rel)
    r = open_and_run(browser, jupyterlab, rel, run=False, expect_untrusted=True,
                     screenshot=os.path.join(OUT, rel[:-len(".ipynb")] + ".png"))
    shown(r, results, figures, run=False, untrusted=True)
