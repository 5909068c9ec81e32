"""Exports the lesson as study notes: every notebook executed as saved (with the learner's
edits and answers; a notebook whose saved outputs are already a complete run, every cell in
order, is exported as it is, without running again), written as

  DIR/NN-topic.html                  one self-contained page: charts inline as SVG data URIs,
                                     no external scripts or styles, readable offline and on paper
  DIR/NN-topic.md + NN-topic_files/  Markdown with each chart as an .svg file beside it
  DIR/NN-topic.pdf                   where a Chromium is installed (printed on A4)
  DIR/day-001-study-notes.html/.pdf  every notebook in order, a table of contents, and the
                                     learner's answers gathered at the end (when exporting
                                     more than one notebook)

Every page starts with the notebook's title, the date of export and the parameters the
learner ran with (the source of the cells tagged `parameters`); every printed PDF page repeats
the title and the date at its top. Answers (cells tagged `answer` or `prediction`) are marked.

Usage: python -m distlab_tools.export_notes [--executed] [--no-pdf] [DIR] [NOTEBOOK...]
  DIR         default notes/
  NOTEBOOK    default every notebooks/*.ipynb, in order
  --executed  the notebooks already hold their outputs (e.g. target/notebooks/): export them
              as they are instead of executing them again
  --no-pdf    HTML and Markdown only
"""
import copy
import datetime
import glob
import html
import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.filters.markdown import markdown2html
from traitlets.config import Config

from .evcxr_cache import link_cache
from .run_notebooks import ANSI, execute, problems

# Notebooks that need a run execute this many at a time: a run keeps about one core busy.
JOBS = 2

COMBINED = "day-001-study-notes"
COURSE = "Day 001: Introduction to Distributed Systems"
ANSWER_TAGS = ("answer", "prediction")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# A4 with these margins leaves 186 mm x 269 mm for the page; distlab_tools.notes_check lays the
# pages out at that width.
PAGE_MARGIN_MM = {"top": 16, "bottom": 12, "left": 12, "right": 12}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #222; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.input_area pre, .jp-InputArea pre { background: #f5f5f5; padding: 0.6em; border-radius: 4px; margin: 0.4em 0; }
.output_area pre, .jp-OutputArea pre { background: #fff; border-left: 3px solid #ddd; padding: 0.4em 0.6em; margin: 0.3em 0; }
.output_stderr pre { border-left-color: #c00; background: #fff3f3; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; overflow-wrap: anywhere; }
img, svg { max-width: 100% !important; height: auto !important; }
.prompt, .input_prompt, .jp-InputPrompt, .jp-OutputPrompt, a.anchor-link { display: none; }
.notes-header { border: 1px solid #ccd; border-radius: 6px; background: #f7f8fc; padding: 0.5em 0.9em; margin: 0 0 1.2em; font-size: 0.9em; }
.notes-header .notes-course { color: #555; }
.notes-header pre { background: #fff; border: 1px solid #dde; margin: 0.3em 0 0.1em; padding: 0.3em 0.6em; }
.notes-header .notes-none { color: #666; font-style: italic; }
/* The learner's own words: answers, predictions, glossary definitions. */
.celltag_answer, .celltag_prediction { border: 2px solid #1b6ac9; border-left-width: 8px; border-radius: 6px; background: #eef5ff; padding: 0.3em 0.8em; margin: 0.8em 0; }
.celltag_answer::before, .celltag_prediction::before { display: block; font-weight: bold; color: #1b6ac9; font-size: 0.85em; letter-spacing: 0.03em; }
.celltag_answer::before { content: "\\270E  IN YOUR OWN WORDS"; }
.celltag_prediction::before { content: "\\270E  YOUR PREDICTION"; }
.celltag_answer .input_area pre, .celltag_prediction .input_area pre { background: #fff; }
.notes-toc ol { padding-left: 1.4em; } .notes-toc li { margin: 0.15em 0; }
.notes-toc ol ol { font-size: 0.92em; }
.notes-answers .notes-answer { border-left: 6px solid #1b6ac9; background: #eef5ff; padding: 0.3em 0.8em; margin: 0.5em 0; }
.notes-answers .notes-context { color: #555; font-size: 0.85em; }
@page { size: A4; margin: 16mm 12mm 12mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; line-height: 1.4; }
  pre { overflow: visible !important; }
  .output_area pre, .jp-OutputArea pre, .input_area pre { font-size: 8pt; }
  div, section { overflow: visible !important; }
  table { font-size: 8pt; }
  th, td { padding: 1px 4px; }
  tr, img, svg, .output_svg, .output_png, .notes-header, .notes-answer { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  .notes-section { break-before: page; page-break-before: always; }
  .celltag_answer, .celltag_prediction { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


# --- reading a notebook ---------------------------------------------------------------------

def tags(cell):
    return cell.get("metadata", {}).get("tags", []) or []


def merge_streams(nb):
    """Each `println!` reaches the notebook as its own stream output; join consecutive outputs
    of the same stream so that a cell's text shows as one block."""
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                merged[-1]["text"] = merged[-1].get("text", "") + out.get("text", "")
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged
    return nb


def title_of(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return re.sub(r"[*_`]", "", line[2:]).strip()
    return fallback


def parameters_of(nb):
    """The source of every cell tagged `parameters`: what the learner ran with."""
    return [c.source.strip() for c in nb.cells if c.cell_type == "code" and "parameters" in tags(c)]


def parameters_line(params):
    """The parameters on one line, for the running header: `let seed: u64 = 7; let loss = 0.3;`"""
    lines = []
    for src in params:
        for line in src.splitlines():
            line = line.split("//")[0].strip()
            if line:
                lines.append(line)
    return " ".join(lines)


def answers_of(nb):
    """(kind, text, context, cell type) for each cell tagged `answer` or `prediction`; context is the
    first line of the nearest markdown cell before it that is not itself an answer."""
    found, context = [], ""
    for cell in nb.cells:
        kind = next((t for t in ANSWER_TAGS if t in tags(cell)), None)
        if kind:
            found.append((kind, cell.source.strip(), context, cell.cell_type))
        elif cell.cell_type == "markdown" and cell.source.strip():
            context = next(line for line in cell.source.splitlines() if line.strip()).lstrip("#* ").strip()
    return found


# --- HTML -------------------------------------------------------------------------------------

def export_date():
    return datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def header_html(title, source_name, date, params, course=True):
    if params:
        shown = "".join(f"<pre>{html.escape(p)}</pre>" for p in params)
    else:
        shown = '<div class="notes-none">this notebook has no parameter cell</div>'
    first = f'<div class="notes-course">{html.escape(COURSE)} · study notes</div>' if course else ""
    return (f'<header class="notes-header">{first}'
            f"<div><b>{html.escape(title)}</b> ({html.escape(source_name)}) · exported {html.escape(date)}</div>"
            f"<div>Parameters you ran with:</div>{shown}</header>")


def body_html(nb):
    """The notebook's cells as HTML (nbconvert's basic template: markup only, no scripts)."""
    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    soup = BeautifulSoup(body, "html.parser")
    for script in soup.find_all("script", src=True):  # nothing may load from outside the page
        script.decompose()
    return soup


def page_html(title, content):
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{content}\n</body></html>\n")


def to_html(nb, title, source_name="", date=None):
    """A complete offline page: the header, then the notebook's cells."""
    date = date or export_date()
    head = header_html(title, source_name or title, date, parameters_of(nb))
    return page_html(title, head + "\n" + str(body_html(nb)))


def prefixed(soup, prefix):
    """Make a notebook's ids unique inside the combined page."""
    for tag in soup.find_all(id=True):
        tag["id"] = f"{prefix}-{tag['id']}"
    for a in soup.find_all("a", href=True):
        if a["href"].startswith("#"):
            a["href"] = f"#{prefix}-{a['href'][1:]}"
    return soup


def combined_html(entries, date):
    """entries: (stem, title, nb). Cover with a table of contents, every notebook on its own
    pages, then the learner's answers gathered by notebook."""
    toc, sections, answers = [], [], []
    for stem, title, nb in entries:
        prefix = "nb-" + re.sub(r"[^A-Za-z0-9-]", "-", stem)
        soup = prefixed(body_html(nb), prefix)
        subs = []
        for h in soup.find_all("h2"):
            text = h.get_text(" ", strip=True).rstrip("¶").strip()
            if h.get("id") and text:
                subs.append(f'<li><a href="#{h["id"]}">{html.escape(text)}</a></li>')
        sub = f"<ol>{''.join(subs)}</ol>" if subs else ""
        toc.append(f'<li><a href="#{prefix}"><b>{html.escape(title)}</b></a>{sub}</li>')
        head = header_html(title, stem + ".ipynb", date, parameters_of(nb), course=False)
        sections.append(f'<section class="notes-section" id="{prefix}">{head}\n{soup}</section>')
        found = answers_of(nb)
        if found:
            items = []
            for kind, text, context, cell_type in found:
                label = "Your prediction" if kind == "prediction" else "Your answer"
                where = f"{label} · {html.escape(context)}" if context else label
                shown = markdown2html(text) if cell_type == "markdown" else f"<pre>{html.escape(text)}</pre>"
                items.append(f'<div class="notes-answer"><div class="notes-context">{where}</div>{shown}</div>')
            answers.append(f"<h3>{html.escape(title)}</h3>{''.join(items)}")
    if not answers:
        answers.append('<p class="notes-none">No cell in these notebooks is tagged as an answer.</p>')
    toc.append('<li><a href="#your-answers"><b>Your answers, all in one place</b></a></li>')
    cover = (f"<h1>{html.escape(COURSE)}: study notes</h1>"
             f"<p>Exported {html.escape(date)}. Every notebook, executed as you saved it, with your answers.</p>"
             f'<nav class="notes-toc"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>')
    tail = f'<section class="notes-section notes-answers" id="your-answers"><h1>Your answers</h1>{"".join(answers)}</section>'
    return page_html(f"{COURSE}: study notes", cover + "\n".join(sections) + tail)


# --- Markdown ---------------------------------------------------------------------------------

def to_markdown(nb, stem, title="", date=None):
    """Markdown with charts as .svg files: drop each chart's text/html twin so the exporter
    picks image/svg+xml and extracts it to a file."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data:
                data.pop("text/html", None)
            if out.get("output_type") == "stream":
                out["text"] = ANSI.sub("", out.get("text", ""))
    c = Config()
    c.ExtractOutputPreprocessor.enabled = True
    c.ExtractOutputPreprocessor.output_filename_template = "chart_{cell_index}_{index}{extension}"
    exporter = MarkdownExporter(config=c)
    body, resources = exporter.from_notebook_node(nb, resources={"output_files_dir": f"{stem}_files"})
    params = parameters_of(nb)
    head = f"> {title or stem} ({stem}.ipynb) · exported {date or export_date()}  \n> Parameters you ran with: "
    head += ("`" + parameters_line(params) + "`") if params else "this notebook has no parameter cell"
    return head + "\n\n" + body, resources.get("outputs", {})


# --- PDF --------------------------------------------------------------------------------------

HEADER_TEMPLATE = ('<div style="font-size:7.5px;font-family:sans-serif;color:#555;width:100%;margin:0 12mm;'
                   'display:flex;justify-content:space-between;gap:2em">'
                   '<span style="white-space:nowrap;overflow:hidden;text-overflow:ellipsis">{left}</span>'
                   '<span style="white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:60%">{right}</span></div>')
FOOTER_TEMPLATE = ('<div style="font-size:7.5px;font-family:sans-serif;color:#555;width:100%;margin:0 12mm;text-align:right">'
                   '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


class Printer:
    """Prints HTML files to A4 PDFs with the system Chromium: through Playwright when it is
    installed (a header with title, date and parameters on every page), else with
    `chromium --headless --print-to-pdf` (no running header). `browser`: a Playwright browser
    to print with (the tests' fixture), left open by close()."""

    def __init__(self, chromium, browser=None):
        self.chromium = chromium
        self._pw, self._browser, self._own = None, browser, browser is None
        if browser is not None:
            return
        try:
            from playwright.sync_api import sync_playwright
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        except Exception as e:  # no Playwright, or it cannot start: the plain print still works
            print(f"    (Playwright unavailable, {type(e).__name__}: {e}; printing without running headers)")
            self.close()

    def print(self, html_path, pdf_path, left, right):
        if self._browser is not None:
            page = self._browser.new_page()
            try:
                page.goto("file://" + os.path.abspath(html_path), wait_until="load")
                page.pdf(path=pdf_path, format="A4", print_background=True, display_header_footer=True,
                         header_template=HEADER_TEMPLATE.format(left=html.escape(left), right=html.escape(right)),
                         footer_template=FOOTER_TEMPLATE,
                         margin={k: f"{v}mm" for k, v in PAGE_MARGIN_MM.items()})
            finally:
                page.close()
            return os.path.exists(pdf_path)
        cmd = [self.chromium, "--headless", *CHROMIUM_FLAGS, f"--print-to-pdf={pdf_path}", "--no-pdf-header-footer",
               "file://" + os.path.abspath(html_path)]
        result = subprocess.run(cmd, capture_output=True, timeout=180)
        return result.returncode == 0 and os.path.exists(pdf_path)

    def close(self):
        if self._browser is not None and self._own:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()
        self._pw = self._browser = None


# --- one notebook, all notebooks ----------------------------------------------------------------

def ran_top_to_bottom(nb):
    """True when the saved notebook holds a complete, current run: every code cell was
    executed, in order, in one kernel session (execution counts 1, 2, 3, ... down the page,
    which is what Run All gives). Such a notebook is exported as saved: running it again would
    only repeat what is there. A cell edited after its run cannot be told from the file: the
    notes show the notebook as it was saved."""
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]
    return bool(counts) and counts == list(range(1, len(counts) + 1))


def _run_one(path):
    """Executes one notebook in a kernel with its own copy of evcxr's cache (hard links: two
    kernels on one cache can break each other, distlab_tools.evcxr_cache), in a worker process.
    Returns the executed notebook as JSON text."""
    import tempfile

    before = os.environ.get("XDG_CACHE_HOME")
    user = os.path.join(before or os.path.expanduser("~/.cache"), "evcxr")
    with tempfile.TemporaryDirectory(prefix="distlab-notes-") as home:
        if os.path.isdir(user):
            link_cache(user, os.path.join(home, "evcxr"))
        os.environ["XDG_CACHE_HOME"] = home
        try:
            nb = nbformat.read(path, as_version=4)
            execute(nb, os.path.dirname(os.path.abspath(path)))
            return nbformat.writes(nb)
        finally:  # a worker runs several notebooks: the next one starts from the user's cache
            if before is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = before


def run_needed(paths, executed):
    """{path: executed notebook} for every notebook that needs a run: none when `executed`;
    otherwise those whose saved outputs are not a complete run (ran_top_to_bottom), JOBS at a
    time."""
    if executed:
        return {}
    todo = [p for p in paths if not ran_top_to_bottom(nbformat.read(p, as_version=4))]
    if not todo:
        return {}
    import multiprocessing

    print(f"running {len(todo)} notebook(s), {JOBS} at a time", flush=True)
    started = time.monotonic()
    with multiprocessing.Pool(min(JOBS, len(todo))) as pool:
        done = dict(zip(todo, pool.map(_run_one, todo)))
    print(f"    ran in {time.monotonic() - started:.0f} s", flush=True)
    return {p: nbformat.reads(text, as_version=4) for p, text in done.items()}


def export(path, out_dir, chromium, executed=False, date=None, printer=None, keep=None, ran=None):
    """Exports one notebook into out_dir: `ran` when given (its executed copy), else as saved
    when `executed` or when its saved outputs are a complete run (ran_top_to_bottom), else
    executed here first. Returns True when no cell shows an error. `keep`, a list, receives
    (stem, title, nb) for the combined page."""
    stem = os.path.splitext(os.path.basename(path))[0]
    date = date or export_date()
    nb = ran if ran is not None else nbformat.read(path, as_version=4)
    started = time.monotonic()
    if ran is None and not executed:
        if ran_top_to_bottom(nb):
            print("    its saved outputs are a complete run (every cell, in order): exported as saved", flush=True)
        else:
            execute(nb, os.path.dirname(os.path.abspath(path)))
    failed = problems(nb)
    merge_streams(nb)
    title = title_of(nb, stem)
    html_path = os.path.join(out_dir, f"{stem}.html")
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(to_html(nb, title, stem + ".ipynb", date))
    md, files = to_markdown(nb, stem, title, date)
    with open(os.path.join(out_dir, f"{stem}.md"), "w", encoding="utf-8") as f:
        f.write(md)
    for name, data in files.items():
        target = os.path.join(out_dir, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    made = [f"{stem}.html", f"{stem}.md ({len(files)} charts in {stem}_files/)"]
    if chromium:
        own = printer is None
        printer = printer or Printer(chromium)
        try:
            params = parameters_line(parameters_of(nb))
            ok = printer.print(html_path, os.path.join(out_dir, f"{stem}.pdf"), title,
                               f"exported {date}" + (f" · {params}" if params else ""))
            made.append(f"{stem}.pdf" if ok else "no PDF (chromium failed)")
        finally:
            if own:
                printer.close()
    if keep is not None:
        keep.append((stem, title, nb))
    print(f"    wrote {', '.join(made)} in {time.monotonic() - started:.1f} s", flush=True)
    for index, message in failed:
        print(f"    warning: cell {index} of {path} shows an error: {message.splitlines()[0]}")
    return not failed


def export_all(paths, out_dir, chromium, executed=False, browser=None):
    os.makedirs(out_dir, exist_ok=True)
    date = export_date()
    ran = run_needed(paths, executed)  # before the printer: the workers are forked
    printer = Printer(chromium, browser) if chromium else None
    clean, kept = True, []
    try:
        for i, path in enumerate(paths, 1):
            how = "executed, exporting" if path in ran else "exporting as saved"
            print(f"[{i}/{len(paths)}] {path}: {how}", flush=True)
            clean &= export(path, out_dir, chromium, executed, date, printer, kept, ran.get(path))
        if len(kept) > 1:
            html_path = os.path.join(out_dir, f"{COMBINED}.html")
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(combined_html(kept, date))
            made = [f"{COMBINED}.html"]
            if printer:
                ok = printer.print(html_path, os.path.join(out_dir, f"{COMBINED}.pdf"),
                                   f"{COURSE}: study notes", f"exported {date}")
                made.append(f"{COMBINED}.pdf" if ok else "no combined PDF (chromium failed)")
            print(f"combined: {', '.join(made)} ({len(kept)} notebooks, contents, your answers)")
    finally:
        if printer:
            printer.close()
    return clean


def main(argv):
    executed = "--executed" in argv
    no_pdf = "--no-pdf" in argv
    args = [a for a in argv if a not in ("--executed", "--no-pdf")]
    if any(a.startswith("--") for a in args):
        print(__doc__)
        return 2
    out_dir = args[0] if args else "notes"
    paths = args[1:] or sorted(glob.glob("notebooks/*.ipynb"))
    chromium = None if no_pdf else find_chromium()
    if chromium:
        print(f"PDF: printing each page with {chromium}")
    elif no_pdf:
        print("PDF: not asked for (--no-pdf); HTML and Markdown only")
    else:
        print("PDF: skipped, no Chromium found (Debian/Ubuntu, as root: apt-get install -y chromium); "
              "HTML and Markdown only")
    clean = export_all(paths, out_dir, chromium, executed)
    print(f"study notes in {os.path.abspath(out_dir)}/")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
