"""distlab's Python tooling, one package installed into the project's .venv by `./lab setup`
(`pip install -e tools`). Every command is `python -m distlab_tools.<module>`:

    evcxr_kernel     install | class | warm: the notebook kernel's set-up
    export_notes     the study notes (`./lab notes`)
    lesson_words     the lesson's time and shape (--check)
    check_clean      notebooks committed without outputs (nbstripout --verify, plus a hint)
    run_notebooks    execute notebooks in the evcxr kernel and check what every cell shows
    notebook_speed   how long a learner waits, cell by cell (a benchmark)
    compare_storm    the storm benchmark against an earlier commit
    seed_cache       the class's seed of evcxr's cache (`./lab class`)
    classroom        prepare: a learner's folder (the class's container image)
    class_report     the teacher's view of a class: answers, predictions, scores (`./lab class report`)
    jupyterlab       run notebooks in JupyterLab in headless Chromium (also the tests' driver)
    notes_check      read exported study notes as printed on A4, PDFs read back
    error_cells      200 cells that each end in a distlab error, each under its own cell
    class_hub        the class test's driver: a hub, its learners, their processes

`jupyterhub_config.py` is JupyterHub's configuration (`jupyterhub -f`), not a module to import.
The tests are under tests/py (pytest; `./lab test` runs them stage by stage).
"""
import os

# The project's checkout: this package lives in ROOT/tools/distlab_tools (installed editable).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
TARGET = os.path.join(ROOT, "target")


def lesson_notebooks():
    """The lesson's notebooks, notebooks/*.ipynb, in order (names only)."""
    return sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb"))
