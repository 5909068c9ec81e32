"""The notebooks as a learner sees them: JupyterLab in a real browser (headless Chromium from
the system, driven by Playwright; Playwright's own browser download is never used).

`JupyterLab` starts a server on 127.0.0.1 with a random token, its own settings (every cell
drawn, windowing mode "none"; no autosave; no news), serving a work folder of copies (so
nothing is ever saved into notebooks/), and stops it, its kernels and their children, also
after a failure. `open_and_run` opens a notebook in a new tab, clicks Run > Run All Cells (or
runs each cell in turn) and waits until every code cell has finished; `cell_problems` is what
a learner would see go wrong. The suite's stage 9 (tests/py/test_jupyterlab.py) uses them
through pytest fixtures.

For another notebook (e.g. a generated one):
  python -m distlab_tools.jupyterlab NOTEBOOK... [--json OUT.json] [--no-run] [--each]
                        [--allow-errors] [--timeout SECONDS] [--screenshots DIR]
  runs each given notebook the same way and writes what JupyterLab rendered under each cell
  (see run_in_jupyterlab) to OUT.json; exits 1 on a problem unless --allow-errors. --each runs
  every code cell in turn instead of Run All (which stops at a cell whose reply is an error);
  --no-run only opens the notebook as saved.
From Python:
  from distlab_tools.jupyterlab import run_in_jupyterlab
  results = run_in_jupyterlab(["x.ipynb"], run=True, each=False)   # one dict per notebook:
      {"path", "seconds", "code_cells", "cells_run", "problems", "screenshot",
       "cells": [{"index", "type", "source", "execution_count", "trusted",
                  "outputs": [{"mime", "text", "images": [{"tag", "width", "height",
                               "decoded", "visible"}], "error_line"}]}]}
  Outputs are listed per cell in DOM order, so a check can tell under which cell a message shows.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import nbformat

from . import ROOT, TARGET
from .export_notes import CHROMIUM_FLAGS, find_chromium

OUT = os.path.join(TARGET, "browser")
TIMEOUT = float(os.environ.get("DISTLAB_BROWSER_TIMEOUT", "900"))
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_MAX_HEIGHT = 16000

SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 with a token, serving `root_dir`. A context manager:
    leaving it stops the server, every kernel it started and their children."""

    def __init__(self, root_dir, log_path):
        self.root_dir, self.log_path = os.path.abspath(root_dir), log_path
        self.proc = self.conf = self._log = None
        self.port, self.token = _free_port(), secrets.token_hex(24)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def api(self, method, path):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=15) as r:
            body = r.read()
        return json.loads(body) if body else None

    def __enter__(self):
        self.conf = tempfile.mkdtemp(prefix="distlab-lab-")
        settings = os.path.join(self.conf, "settings")
        for rel, value in SETTINGS.items():
            path = os.path.join(settings, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(value, f)
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=settings,
                   JUPYTERLAB_WORKSPACES_DIR=os.path.join(self.conf, "workspaces"),
                   JUPYTER_RUNTIME_DIR=os.path.join(self.conf, "runtime"),
                   JUPYTER_CONFIG_DIR=os.path.join(self.conf, "config"))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.terminals_enabled=False"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self._log = open(self.log_path, "w")
        # Its own session: stop() can end the server and whatever it started as one group.
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     cwd=self.root_dir, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited ({self.proc.returncode}); see {self.log_path}")
                try:
                    self.api("GET", "/api/status")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"JupyterLab did not answer in 120 s; see {self.log_path}")
                    time.sleep(0.3)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def shutdown_kernels(self):
        try:
            for s in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{s['id']}")
            for k in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{k['id']}")
        except OSError:
            pass

    def stop(self):
        if self.proc is not None:
            try:
                import psutil
                children = psutil.Process(self.proc.pid).children(recursive=True)
            except Exception:
                children = []
            if self.proc.poll() is None:
                self.shutdown_kernels()
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            for child in children:  # kernels that left the group
                try:
                    child.kill()
                except Exception:
                    pass
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.conf:
            shutil.rmtree(self.conf, ignore_errors=True)
            self.conf = None


# --- in the page -------------------------------------------------------------------------------

JS_STATE = r"""
() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext || !w.context) return null;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  let code = 0, running = 0, done = 0;
  for (const c of w.content.widgets) {
    if (c.model.type !== 'code' || !c.model.sharedModel.getSource().trim()) continue;
    code += 1;
    const p = (c.node.querySelector('.jp-InputPrompt') || {}).innerText || '';
    if (p.includes('*')) running += 1; else if (/\[\s*\d+\s*\]/.test(p)) done += 1;
  }
  return {ready: w.context.isReady, status: kernel ? kernel.status : 'none', cells: w.content.widgets.length,
          code, running, done};
}
"""

JS_CELLS = r"""
() => {
  const w = window.jupyterapp.shell.currentWidget;
  return w.content.widgets.map((c, index) => {
    const outputs = Array.from(c.node.querySelectorAll('.jp-OutputArea-output')).map(o => {
      const images = Array.from(o.querySelectorAll('img, svg'))
        .filter(e => !(e.tagName.toLowerCase() === 'svg' && e.parentElement.closest('svg')))
        .map(e => {
          const r = e.getBoundingClientRect(), s = getComputedStyle(e);
          return {tag: e.tagName.toLowerCase(), width: Math.round(r.width), height: Math.round(r.height),
                  decoded: e.tagName === 'IMG' ? (e.complete && e.naturalWidth > 0) : true,
                  visible: r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'};
        });
      const red = Array.from(o.querySelectorAll('.ansi-red-fg, .ansi-red-intense-fg')).map(e => e.innerText).join(' ');
      return {mime: o.getAttribute('data-mime-type') || '', text: (o.innerText || '').slice(0, 4000), images,
              error_line: /^\s*error:/m.test(red)};
    });
    const meta = c.model.getMetadata ? c.model.getMetadata('distlab') : undefined;
    return {index, type: c.model.type, source: c.model.sharedModel.getSource(),
            execution_count: c.model.type === 'code' ? c.model.executionCount : null,
            trusted: c.model.trusted, distlab: meta || {}, outputs};
  });
}
"""


def _wait(page, predicate, timeout, what, poll=0.5):
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(JS_STATE)
        if state and predicate(state):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s (last state {state})")
        time.sleep(poll)


def _run_all(page):
    """Run > Run All Cells, through the menu as a learner would (the command if the menu moved)."""
    try:
        page.get_by_role("menuitem", name="Run", exact=True).click(timeout=5000)
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click(timeout=5000)
        return "menu"
    except Exception:
        page.keyboard.press("Escape")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        return "command"


JS_RUN_EACH = r"""
() => {
  const app = window.jupyterapp, nb = app.shell.currentWidget.content;
  window.__distlabEach = 'running';
  (async () => {
    for (let i = 0; i < nb.widgets.length; i++) {
      if (nb.widgets[i].model.type !== 'code') continue;
      nb.activeCellIndex = i;
      await app.commands.execute('notebook:run-cell');
    }
  })().then(() => { window.__distlabEach = 'done'; }, (e) => { window.__distlabEach = 'failed: ' + e; });
}
"""


def _run_each(page):
    """Runs the code cells one after the other, each to its end, whatever the one before did
    (Run All stops at a cell whose kernel reply is an error)."""
    page.evaluate(JS_RUN_EACH)
    return "each cell in turn"


SCROLLER = "document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"


def _screenshot(page, path):
    """The whole notebook in one picture: the file browser folded away, the window as tall as
    the notebook (up to SCREENSHOT_MAX_HEIGHT), scrolled to the top."""
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.wait_for_timeout(300)
    height = page.evaluate(f"() => {{ const s = {SCROLLER}; return s ? s.scrollHeight : 0 }}")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(VIEWPORT["height"], height + 200), SCREENSHOT_MAX_HEIGHT)})
    page.wait_for_timeout(500)
    page.evaluate(f"() => {{ const s = {SCROLLER}; if (s) s.scrollTop = 0; }}")
    page.wait_for_timeout(700)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)


def cell_problems(cells, ran=True):
    """What a learner would see go wrong, per cell."""
    found = []
    for c in cells:
        if c["type"] != "code":
            continue
        meta = c.get("distlab") or {}
        for o in c["outputs"]:
            first = next((line for line in o["text"].splitlines() if re.search(r"\w", line)), "")[:200]
            if o["mime"] in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error"):
                found.append(f"cell {c['index']}: error or stderr output: {first}")
            elif "panicked at" in o["text"]:
                found.append(f"cell {c['index']}: a panic: {first}")
            elif o["error_line"] and not meta.get("error"):
                found.append(f"cell {c['index']}: an error: {first}")
        if "image/svg+xml" in meta.get("expect", []):
            shown = [i for o in c["outputs"] for i in o["images"]
                     if i["visible"] and i["decoded"] and i["width"] >= 100 and i["height"] >= 50]
            if not shown:
                found.append(f"cell {c['index']}: expects a chart, shows none "
                             f"({[i for o in c['outputs'] for i in o['images']] or 'no image'})")
        if ran and c["source"].strip() and c["execution_count"] is None:
            found.append(f"cell {c['index']}: did not run")
    return found


def copy_for_lab(src, work_dir, name=None):
    """Copies a notebook into work_dir for JupyterLab, with `:dep ... path = "REL"` made
    absolute (REL is relative to the notebook's own folder), so the copy runs anywhere."""
    nb = nbformat.read(src, as_version=4)
    base = os.path.dirname(os.path.abspath(src))

    def absolute(m):
        return f'{m.group(1)}"{os.path.normpath(os.path.join(base, m.group(2)))}"'
    for cell in nb.cells:
        if cell.cell_type == "code" and ":dep" in cell.source:
            cell.source = re.sub(r'(:dep\b[^\n]*?\bpath\s*=\s*)"([^"/][^"]*)"', absolute, cell.source)
    os.makedirs(work_dir, exist_ok=True)
    dst = os.path.join(work_dir, name or os.path.basename(src))
    nbformat.write(nb, dst)
    return dst


def open_and_run(browser, lab, rel, run=True, timeout=TIMEOUT, screenshot=None, expect_untrusted=False, each=False):
    """Opens work_dir/rel in a new tab; with run, Run All (or with each, every code cell in
    turn) and waits for every code cell. Returns the result dict (see the module doc)."""
    started = time.monotonic()
    page = browser.new_page(viewport=VIEWPORT)
    ws = "distlab-" + secrets.token_hex(4)  # a fresh workspace: no other notebook is restored
    url = f"{lab.base}/lab/workspaces/{ws}/tree/{urllib.parse.quote(rel)}?reset&token={lab.token}"
    result = {"path": rel, "problems": [], "screenshot": screenshot}
    try:
        page.goto(url, wait_until="domcontentloaded", timeout=120000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120000)
        state = _wait(page, lambda s: s["ready"] and s["cells"] > 0 and (not run or s["status"] == "idle"),
                      180, f"{rel}: opening and starting the kernel")
        if run:
            result["open_s"] = round(time.monotonic() - started, 1)
            result["run_via"] = _run_each(page) if each else _run_all(page)
            _wait(page, lambda s: s["running"] > 0 or s["done"] > 0, 60, f"{rel}: Run All did not start")
            quiet = [0]

            def finished(s):
                if each and page.evaluate("() => window.__distlabEach") == "running":
                    return False
                quiet[0] = quiet[0] + 1 if (s["running"] == 0 and s["status"] == "idle") else 0
                return s["done"] == s["code"] and quiet[0] >= 2 or quiet[0] >= 10

            state = _wait(page, finished, timeout, f"{rel}: Run All did not finish")
        page.wait_for_timeout(500)  # let the last outputs draw
        if run:
            result["run_s"] = round(time.monotonic() - started - result["open_s"], 1)
        else:
            result["open_s"] = round(time.monotonic() - started, 1)
        cells = page.evaluate(JS_CELLS)
        result.update(cells=cells, code_cells=state["code"], cells_run=state["done"])
        result["problems"] = cell_problems(cells, ran=run)
        if run and state["done"] != state["code"]:
            result["problems"].append(f"{state['done']} of {state['code']} code cells ran")
        if expect_untrusted:
            trusted = [c["index"] for c in cells if c["type"] == "code" and c["outputs"] and c["trusted"]]
            if trusted:
                result["problems"].append(f"expected an untrusted notebook, cells {trusted} are trusted")
        if not any(c["outputs"] for c in cells):
            result["problems"].append("no cell shows any output")
    except Exception as e:
        result["problems"].append(f"{type(e).__name__}: {e}")
    finally:
        if screenshot:
            try:
                shot_started = time.monotonic()
                _screenshot(page, screenshot)
                result["screenshot_s"] = round(time.monotonic() - shot_started, 1)
            except Exception as e:
                result["problems"].append(f"screenshot failed: {e}")
        page.close(run_before_unload=False)
        lab.shutdown_kernels()
        result["seconds"] = round(time.monotonic() - started, 1)
    return result


def _on_sigterm(*_):
    raise SystemExit(143)  # so the `finally` blocks stop JupyterLab and the browser


def lab_copies(notebooks, work_dir, untrusted=()):
    """(copy, run it?, expected untrusted?) for each notebook copied into a fresh work_dir."""
    shutil.rmtree(work_dir, ignore_errors=True)
    jobs = [(copy_for_lab(p, work_dir), True, False) for p in notebooks]
    jobs += [(copy_for_lab(p, work_dir, "untrusted-" + os.path.basename(p)), False, True) for p in untrusted]
    return jobs


def summary(r, run, untrusted=False):
    """One line on what a notebook showed in JupyterLab."""
    charts = sum(1 for c in r.get("cells", []) for o in c["outputs"] for i in o["images"] if i["visible"])
    verb = (f"{r.get('cells_run', 0)}/{r.get('code_cells', 0)} code cells ran" if run
            else "opened as saved" + (" (untrusted)" if untrusted else ""))
    split = f" (open {r.get('open_s', '-')}, run {r.get('run_s', '-')}, screenshot {r.get('screenshot_s', '-')})"
    shot = r.get("screenshot")
    return (f"{'ok  ' if not r['problems'] else 'FAIL'} {r['path']}: {verb}, {charts} charts visible, "
            f"{r['seconds']} s{split}" + (f", screenshot {os.path.relpath(shot, ROOT)}" if shot else ""))


def run_in_jupyterlab(notebooks, run=True, timeout=TIMEOUT, screenshots_dir=None, untrusted=(),
                      work_dir=None, log=print, each=False):
    """Runs each notebook (a path) in JupyterLab in headless Chromium and returns one result
    dict per notebook, then one per `untrusted` notebook (opened as saved, not run, expected to
    be untrusted). run=True clicks Run > Run All Cells; each=True instead runs every code cell
    in turn to its end, so cells after an error run too. Starts and stops everything itself."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if not chromium:
        raise RuntimeError("no Chromium found (Debian/Ubuntu, as root: apt-get install -y chromium)")
    work_dir = work_dir or os.path.join(OUT, "work")
    jobs = [(path, run if not bad else False, bad) for path, _, bad in lab_copies(notebooks, work_dir, untrusted)]
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    results = []
    try:
        with JupyterLab(work_dir, os.path.join(OUT, "jupyterlab.log")) as lab, sync_playwright() as pw:
            log(f"    JupyterLab on {lab.base} (token), Chromium {chromium}")
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                for path, do_run, untrusted_one in jobs:
                    rel = os.path.basename(path)
                    shot = os.path.join(screenshots_dir, rel[:-len(".ipynb")] + ".png") if screenshots_dir else None
                    r = open_and_run(browser, lab, rel, run=do_run, timeout=timeout, screenshot=shot,
                                     expect_untrusted=untrusted_one, each=each)
                    results.append(r)
                    log("    " + summary(r, do_run, untrusted_one))
                    for p in r["problems"]:
                        log(f"         {p}")
            finally:
                browser.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return results


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    paths, out_json, run, allow, timeout, shots, each = [], None, True, False, TIMEOUT, None, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--json":
            out_json = args.pop(0)
        elif a == "--no-run":
            run = False
        elif a == "--allow-errors":
            allow = True
        elif a == "--each":
            each = True
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--screenshots":
            shots = args.pop(0)
        elif a.startswith("-"):
            print(__doc__)
            return 2
        else:
            paths.append(a)
    results = run_in_jupyterlab(paths, run=run, timeout=timeout, screenshots_dir=shots, each=each)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(results, f, indent=1)
    failed = sum(1 for r in results if r["problems"])
    print(f"browser: {len(results) - failed} passed, {failed} failed")
    return 0 if allow or not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
