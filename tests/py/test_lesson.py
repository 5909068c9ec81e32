"""Stage 1: the notebooks are committed without outputs, and the lesson keeps its shape."""
import pytest

from distlab_tools import NOTEBOOKS, check_clean, lesson_words

pytestmark = pytest.mark.lesson


def test_notebooks_are_committed_without_outputs(figures):
    """nbstripout --verify on every notebook under notebooks/ (distlab_tools.check_clean)."""
    paths = check_clean.notebooks(NOTEBOOKS)
    assert paths, f"no notebooks under {NOTEBOOKS}"
    bad = check_clean.verify(paths)
    figures(f"clean: {len(paths) - len(bad)} of {len(paths)} notebooks")
    assert not bad, "\n".join(f"{p}: {problem}" for p, problem in bad.items())


def test_lesson_keeps_its_shape(figures):
    """The time model's minutes, stated times, core path, predictions, cells (lesson_words --check)."""
    lines, problems = lesson_words.lesson(check=True)
    figures("\n".join(lines))
    assert not problems, "\n".join(problems)
