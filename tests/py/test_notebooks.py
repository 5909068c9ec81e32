"""Stage 6: every notebook, and 200 cells that each end in a distlab error, executed in the real
evcxr kernel. Run with `-n 2` (pytest-xdist): two kernels at a time, each worker with its own
evcxr cache (a notebook's run keeps about one core busy, and this machine has two). The error
cells come first, so that one worker starts them while the other takes the notebooks."""
import os

import pytest

from distlab_tools import NOTEBOOKS, error_cells, lesson_notebooks
from distlab_tools.run_notebooks import run_and_keep

pytestmark = pytest.mark.notebooks


def test_error_cells(kernel, figures):
    """200 erroring cells between 200 that work: each error under its own cell, no error text
    elsewhere, the variable kept across every failure (distlab_tools.error_cells)."""
    problems, line = error_cells.run(200)
    figures(line)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", lesson_notebooks())
def test_notebook(name, kernel, figures):
    """No error, nothing on stderr, no panic, and what each cell's `distlab` metadata expects
    (distlab_tools.run_notebooks); the executed copy is kept in target/notebooks/."""
    found, seconds = run_and_keep(os.path.join(NOTEBOOKS, name))
    figures(f"{name} in {seconds:.1f} s")
    assert not found, "\n".join(f"cell {i}: {message}" for i, message in found)
