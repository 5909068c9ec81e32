"""distlab's Python tests: what `./lab test` runs in stages 1 and 6-10, one marker per stage.

    lesson      stage 1: notebooks committed without outputs, the lesson's time and shape
    notebooks   stage 6: every notebook and 200 erroring cells in the real evcxr kernel
    scenarios   stage 7: a changed parameter, other seeds and loss, the study-notes export
    notes       stage 8: the study notes read in Chromium as printed on A4, PDFs read back
    jupyterlab  stage 9: every notebook, Run All in JupyterLab in headless Chromium
    classhub    stage 10: `./lab class` with N learners running notebook 03 at once

Run one stage from the project's root (after ./lab setup; stages 7-9 read the executed
notebooks that stage 6 leaves in target/notebooks/):

    .venv/bin/python -m pytest tests/py -p no:cacheprovider --import-mode=importlib -m notebooks -n 2

Fixtures: `kernel` (the evcxr kernel, with this worker's own evcxr cache), `jupyterlab` (a
JupyterLab server), `browser` (pytest-playwright's, launching the system Chromium: see
browser_type_launch_args), `class_hub` and `learners` (a class on this machine), and
`figures`: a line for the log, printed at the end of the run (from pytest-xdist's workers too).
"""
import json
import os
import shutil
import signal

import pytest

from distlab_tools import ROOT, lesson_notebooks
from distlab_tools import class_hub as hub_driver
from distlab_tools.evcxr_cache import own_cache
from distlab_tools.export_notes import CHROMIUM_FLAGS, find_chromium
from distlab_tools.jupyterlab import OUT as BROWSER_OUT
from distlab_tools.jupyterlab import JupyterLab
from distlab_tools.run_notebooks import EXECUTED_DIR, KERNEL

STAGES = {
    "lesson": "stage 1: notebooks committed without outputs, the lesson's time and shape",
    "notebooks": "stage 6: every notebook and the error cells, executed in the real evcxr kernel",
    "scenarios": "stage 7: notebook scenarios (a changed parameter, seeds and loss, the notes export)",
    "notes": "stage 8: study notes exported with answers, read in Chromium, PDFs read back",
    "jupyterlab": "stage 9: JupyterLab in headless Chromium, every notebook, Run All",
    "classhub": "stage 10: a class on one server, N learners running notebook 03 at once",
}


def pytest_addoption(parser):
    parser.addoption("--learners", type=int, default=5, help="learners in the class test (1 to 50; default 5)")
    parser.addoption("--class-json", help="write the class test's measurements to this file")


def pytest_configure(config):
    for name, text in STAGES.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    # SIGTERM stops a run as Ctrl-C does: the fixtures' teardown stops JupyterLab, the hub and
    # the kernels they started (each runs in a session of its own, which a kill would leave).
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(*_):
    raise KeyboardInterrupt


# --- figures: what a test measured, for the log -------------------------------------------------

@pytest.fixture
def figures(record_property):
    """figures("line"): a line printed under "figures" at the end of the run."""
    return lambda line: record_property("figures", str(line))


FIGURES = []  # (test, lines), gathered in the process that reports (xdist's controller too)


def pytest_runtest_logreport(report):
    if report.when == "call":
        lines = [value for name, value in report.user_properties if name == "figures"]
        if lines:
            FIGURES.append((report.nodeid, lines))


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("figures")
    for nodeid, lines in sorted(FIGURES):
        terminalreporter.write_line(nodeid.split("::", 1)[-1])
        for line in lines:
            for part in line.splitlines():
                terminalreporter.write_line("    " + part)


# --- the kernel ---------------------------------------------------------------------------------

# Notebook 07's skeletons of steps 1-3 done as a learner would, as edits of their cells (stage 7
# runs them; stage 10 grades a learner who did step 1).
SOLVED_07 = {
    "struct Step1;": [
        ("        out.finish(); // TODO: not yet\n", ""),
        ("Msg::Value(v) => state.push(v), // TODO: and send it back",
         "Msg::Value(v) => { state.push(v); out.reply(Msg::Ack(v)); }"),
        ("Msg::Ack(_) => {}               // TODO: answer the call with it", "Msg::Ack(v) => out.respond(Some(v)),"),
    ],
    "struct Step2;": [
        ("state.push(v); // TODO: a copy that arrives again", "if !state.contains(&v) { state.push(v); }"),
    ],
    "struct Step3;": [
        ("_: &Context, _state: &mut Waiting, req: &ClientOp", "_: &Context, state: &mut Waiting, req: &ClientOp"),
        ("out.send(to, Msg::Value(value)); // TODO: remember it, set a timer",
         "state.waiting.insert(value, to); out.send(to, Msg::Value(value)); out.set_timer(120.0, value);"),
        ("Msg::Ack(v) => out.respond(Some(v)), // TODO: stop waiting for it",
         "Msg::Ack(v) => { if state.waiting.remove(&v).is_some() { out.respond(Some(v)); } }"),
        ("_: &Context, _state: &mut Waiting, _value: u64, _out: &mut Out<Msg>) {\n"
         "        // TODO: still waiting? send again, and set the timer again\n",
         "_: &Context, state: &mut Waiting, value: u64, out: &mut Out<Msg>) {\n"
         "        if let Some(&to) = state.waiting.get(&value) { out.send(to, Msg::Value(value)); out.set_timer(120.0, value); }\n"),
    ],
}


@pytest.fixture(scope="session")
def solve_07():
    """solve(nb, steps): notebook 07's cells of those steps (1-3) edited as done (SOLVED_07),
    in place; returns the code cells that check them (`exercises::...(StepN).check()`)."""
    def solve(nb, steps):
        checks = []
        for marker, edits in SOLVED_07.items():
            step = marker.split()[1].rstrip(";")
            if int(step[4:]) not in steps:
                continue
            cells = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
            assert len(cells) == 1, f"expected one cell with `{marker}`, found {len(cells)}"
            for old, new in edits:
                assert old in cells[0].source, f"the skeleton of `{marker}` changed: update SOLVED_07 ({old!r})"
                cells[0].source = cells[0].source.replace(old, new)
            checks += [c for c in nb.cells if c.cell_type == "code" and f"({step}).check()" in c.source]
        return checks
    return solve


@pytest.fixture(scope="session")
def kernel(worker_id):
    """The evcxr kernel `rust` as ./lab setup registered it. Every kernel this worker starts
    uses the worker's own evcxr cache (hard links to the user's: two kernels on one cache can
    break each other, distlab_tools.evcxr_cache)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.fail(f"no Jupyter kernel {KERNEL!r}: run ./lab setup")
    own_cache(ROOT, f"pytest-{worker_id}")
    return KERNEL


@pytest.fixture(scope="session")
def executed_notebooks():
    """target/notebooks/, holding every lesson notebook as stage 6 executed it."""
    missing = [n for n in lesson_notebooks() if not os.path.exists(os.path.join(EXECUTED_DIR, n))]
    if missing:
        pytest.fail(f"no executed copy of {', '.join(missing)} in {EXECUTED_DIR}: run stage 6 first "
                    "(pytest -m notebooks; ./lab test does)")
    return EXECUTED_DIR


# --- Chromium and JupyterLab --------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium():
    """The system's Chromium: Playwright drives it, its own browser download is never used."""
    path = find_chromium()
    if not path:
        pytest.fail("no Chromium found (Debian/Ubuntu, as root: apt-get install -y chromium poppler-utils)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium):
    """pytest-playwright's `browser` launches the system Chromium, with the flags the notes use."""
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def jupyterlab():
    """JupyterLab on 127.0.0.1 (a token, its own settings) serving target/browser/work/, where
    the tests copy the notebooks they open; stopped with its kernels at the end."""
    work = os.path.join(BROWSER_OUT, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with JupyterLab(work, os.path.join(BROWSER_OUT, "jupyterlab.log")) as lab:
        yield lab


# --- a class ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def class_report(request):
    """The class test's measurements, written to --class-json at the end."""
    report = {}
    yield report
    path = request.config.getoption("--class-json")
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2)


@pytest.fixture(scope="module")
def class_hub(request, class_report):
    """`./lab class` on free ports with a fresh state in target/class-test/; at the end the
    hub, every learner's server and kernel are stopped (the hub's log shown after a failure)."""
    count = request.config.getoption("--learners")
    if not 1 <= count <= 50:
        pytest.fail(f"--learners {count}: give 1 to 50")
    names = [f"learner{i}" for i in range(1, count + 1)]
    log = os.path.join(hub_driver.CLASS, "hub.log")
    failed = request.session.testsfailed
    try:
        process, hub, seconds = hub_driver.start(names, log)
    except BaseException:
        _show_tail(request, log)
        raise
    hub.names = names
    class_report["hub_start_s"] = round(seconds, 1)
    try:
        yield hub
    finally:
        hub_driver.stop_everything(process, names)
        hub_driver.remove_users()  # the learners' system users (as root); their folders stay
        if request.session.testsfailed > failed:
            _show_tail(request, log)


def _show_tail(request, log):
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    try:
        with open(log) as f:
            tail = f.readlines()[-40:]
    except OSError:
        return
    reporter.write_line(f"--- the last lines of {os.path.relpath(log, ROOT)}:")
    reporter.write_line("".join(tail))
