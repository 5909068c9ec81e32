"""Reads the exported study notes as a reader would: every HTML page opened in headless
Chromium (Playwright, the system Chromium) with print media at the width of an A4 page, and
every PDF read back with poppler-utils (pdfinfo, pdftotext).

For every HTML page it asserts:
  - no `pre`, `table`, `img` or `svg` is wider than the page or scrolls (nor does anything
    around it, nor the page itself);
  - one output block per code cell's text output (consecutive `println!` lines in one box);
  - the expected number of charts, each one drawn (an image that decodes, not zero-sized),
    and none of them, nor a table row, allowed to break across pages;
  - every answer a scenario wrote appears (`--answers FILE.json` or `--answer TEXT`);
  - the page has the notebook's title, the export date and its parameters.
For every PDF: pdfinfo gives a page count, pdftotext finds text on every page, the title and
every answer; the combined PDF has at least the pages of all the notebooks' PDFs together.

The suite's stage 8 (tests/py/test_notes.py) exports the executed notebooks of
target/notebooks/, with a learner's answers written in (with_answers), to target/notes/ and
checks them, answers included.

Usage:
  python -m distlab_tools.notes_check NOTES_DIR [--notebooks DIR] [--answers FILE.json]
                  [--answer TEXT]... [--report]
    NOTES_DIR      what distlab_tools.export_notes wrote
    --notebooks    the executed notebooks the notes came from (default target/notebooks): the
                   expected charts and text outputs of NN-topic.html come from NN-topic.ipynb
    --answers      a JSON list of strings (or {"answers": [...]}) that must each appear in
                   the combined page and PDF, and each in at least one notebook's page
    --report       print the measurements per page and exit 0 whatever they are (for
                   comparing exports), instead of failing
From Python: check_notes(notes_dir, notebooks_dir, answers, browser=None) -> (problems, rows).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import nbformat

from . import NOTEBOOKS, TARGET
from .export_notes import CHROMIUM_FLAGS, COMBINED, PAGE_MARGIN_MM, find_chromium, parameters_of, title_of

# The width the printed page gives its content, in CSS pixels (96 per inch).
PAGE_WIDTH_PX = int((210 - PAGE_MARGIN_MM["left"] - PAGE_MARGIN_MM["right"]) / 25.4 * 96)

MEASURE = r"""
() => {
  const W = document.documentElement.clientWidth;
  const describe = (el) => {
    const tag = el.tagName.toLowerCase();
    const cell = el.closest('.cell, .jp-Cell');
    const cells = Array.from(document.querySelectorAll('.cell, .jp-Cell'));
    const text = (el.innerText || el.textContent || el.getAttribute('src') || '').trim().replace(/\s+/g, ' ');
    return `${tag} in cell ${cell ? cells.indexOf(cell) : '-'}: "${text.slice(0, 70)}"`;
  };
  const scrolls = (el) => el.scrollWidth > el.clientWidth + 1 &&
      !['visible', 'clip'].includes(getComputedStyle(el).overflowX);
  const clipped = [];
  for (const el of document.querySelectorAll('pre, table, img, svg')) {
    if (el.tagName.toLowerCase() === 'svg' && el.parentElement.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    let why = null;
    if (r.right > W + 0.5 || r.left < -0.5) why = `${Math.round(r.width)} px wide, page ${W} px`;
    else if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'IMG' && el.tagName.toLowerCase() !== 'svg')
      why = `scrolls (${el.scrollWidth} px in ${el.clientWidth} px)`;
    else {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
        if (scrolls(a)) { why = `inside a box that scrolls (${a.scrollWidth} px in ${a.clientWidth} px)`; break; }
    }
    if (why) clipped.push(`${describe(el)}: ${why}`);
  }
  if (document.documentElement.scrollWidth > W + 1)
    clipped.push(`the page itself is ${document.documentElement.scrollWidth} px wide, page ${W} px`);
  const split = [];
  let textCells = 0;
  const cells = Array.from(document.querySelectorAll('.cell, .jp-Cell'));
  cells.forEach((cell, i) => {
    if (!cell.matches('.code_cell, .jp-CodeCell')) return;
    const blocks = cell.querySelectorAll('.output_stream, [data-mime-type="application/vnd.jupyter.stdout"], [data-mime-type="application/vnd.jupyter.stderr"]');
    if (blocks.length) textCells += 1;
    const out = cell.querySelectorAll('.output_stdout, [data-mime-type="application/vnd.jupyter.stdout"]').length;
    const err = cell.querySelectorAll('.output_stderr, [data-mime-type="application/vnd.jupyter.stderr"]').length;
    if (out > 1 || err > 1) split.push(`cell ${i}: ${blocks.length} text output blocks`);
  });
  const charts = [], breakable = [];
  for (const el of document.querySelectorAll('.output_area img, .output_area svg, .jp-OutputArea img, .jp-OutputArea svg')) {
    if (el.tagName.toLowerCase() === 'svg' && el.parentElement.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    const drawn = r.width >= 50 && r.height >= 30 && (el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0));
    charts.push(drawn ? null : describe(el));
    if (getComputedStyle(el).breakInside !== 'avoid') breakable.push(describe(el));
  }
  for (const tr of document.querySelectorAll('tr'))
    if (getComputedStyle(tr).breakInside !== 'avoid') { breakable.push(describe(tr)); break; }
  return {width: W, clipped, split, textCells, charts, breakable,
          text: document.body.innerText, header: (document.querySelector('.notes-header') || {}).innerText || ''};
}
"""


def expected(nb):
    """(charts, code cells with text output, cells that expect a chart) of an executed notebook."""
    charts = 0
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            shown = data.get("text/html")
            if shown is not None:  # the page shows the HTML: every SVG image in it is a chart
                shown = shown if isinstance(shown, str) else "".join(shown)
                charts += shown.count("data:image/svg+xml")
            elif "image/svg+xml" in data:
                charts += 1
    text = sum(1 for c in nb.cells if c.cell_type == "code" and any(o.get("output_type") == "stream" for o in c.get("outputs", [])))
    want = sum(1 for c in nb.cells if "image/svg+xml" in c.get("metadata", {}).get("distlab", {}).get("expect", []))
    return charts, text, want


def pdf_facts(path):
    """(pages, text of each page) with poppler-utils."""
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    return pages, text.split("\f")[:pages]


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


def check_notes(notes_dir, notebooks_dir=None, answers=(), browser=None):
    """Returns (problems, rows): problems are strings naming the page and the element; rows
    are (page, clipped, split cells, charts found, charts expected, PDF pages) per page.
    `browser`: a Playwright browser to use (the tests' fixture); else one is launched here."""

    notebooks_dir = notebooks_dir or os.path.join(TARGET, "notebooks")
    pages = sorted(glob.glob(os.path.join(notes_dir, "*.html")))
    if not pages:
        return [f"no HTML pages in {notes_dir}"], []
    chromium = find_chromium()
    if not chromium:
        return ["no Chromium found (Debian/Ubuntu, as root: apt-get install -y chromium poppler-utils)"], []
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            own = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                return _check_pages(own, pages, notebooks_dir, answers)
            finally:
                own.close()
    return _check_pages(browser, pages, notebooks_dir, answers)


def _check_pages(browser, pages, notebooks_dir, answers):
    problems, rows = [], []
    totals = {"charts": 0, "text": 0, "want": 0}
    nb_pdf_pages = 0
    page = browser.new_page(viewport={"width": PAGE_WIDTH_PX, "height": 1000})
    page.emulate_media(media="print")
    for html_path in pages:
        name = os.path.basename(html_path)
        stem = name[:-len(".html")]
        combined = stem == COMBINED
        page.goto("file://" + os.path.abspath(html_path), wait_until="load")
        m = page.evaluate(MEASURE)
        nb_path = os.path.join(notebooks_dir, stem + ".ipynb")
        nb = nbformat.read(nb_path, as_version=4) if os.path.exists(nb_path) else None
        if combined:
            want_charts, want_text, want_expect = totals["charts"], totals["text"], totals["want"]
        elif nb is not None:
            want_charts, want_text, want_expect = expected(nb)
            totals["charts"] += want_charts
            totals["text"] += want_text
            totals["want"] += want_expect
        else:
            want_charts = want_text = want_expect = None
        for c in m["clipped"]:
            problems.append(f"{name}: {c}")
        for s in m["split"]:
            problems.append(f"{name}: {s} (one block expected)")
        found = len(m["charts"])
        for c in [c for c in m["charts"] if c]:
            problems.append(f"{name}: chart not drawn: {c}")
        for b in m["breakable"]:
            problems.append(f"{name}: may break across pages: {b}")
        if want_charts is not None:
            if found != want_charts or found < want_expect:
                problems.append(f"{name}: {found} charts, expected {want_charts} "
                                f"({want_expect} cells expect one)")
            if m["textCells"] != want_text:
                problems.append(f"{name}: {m['textCells']} code cells show text output, the notebook has {want_text}")
        text = squash(m["text"])
        if nb is not None and not combined:
            header = squash(m["header"])
            title = title_of(nb, stem)
            if title not in header or "exported" not in header:
                problems.append(f"{name}: the header lacks the title or the export date: {header[:200]!r}")
            for p in parameters_of(nb):
                if squash(p) not in header:
                    problems.append(f"{name}: the header lacks the parameters {p!r}")
        if combined:
            for a in answers:
                if squash(a) not in text:
                    problems.append(f"{name}: the answer {a!r} is missing")
            if "Contents" not in text:
                problems.append(f"{name}: no table of contents")
        pdf = html_path[:-len(".html")] + ".pdf"
        pdf_pages = None
        if os.path.exists(pdf):
            pdf_pages, page_texts = pdf_facts(pdf)
            empty = [i + 1 for i, t in enumerate(page_texts) if not t.strip()]
            if empty:
                problems.append(f"{os.path.basename(pdf)}: pages without text: {empty}")
            whole = squash(" ".join(page_texts))
            if combined:
                if pdf_pages < nb_pdf_pages:
                    problems.append(f"{os.path.basename(pdf)}: {pdf_pages} pages, fewer than the "
                                    f"notebooks' {nb_pdf_pages}")
                for a in answers:
                    if squash(a)[:60] not in whole:
                        problems.append(f"{os.path.basename(pdf)}: the answer {a!r} is missing")
            else:
                nb_pdf_pages += pdf_pages
                if nb is not None and squash(title_of(nb, stem))[:40] not in whole:
                    problems.append(f"{os.path.basename(pdf)}: the title is missing from its text")
        rows.append((name, len(m["clipped"]), len(m["split"]), found, want_charts, pdf_pages))
    if answers:
        pages_text = []
        for html_path in pages:
            if os.path.basename(html_path) != COMBINED + ".html":
                page.goto("file://" + os.path.abspath(html_path), wait_until="load")
                pages_text.append(squash(page.evaluate("() => document.body.innerText")))
        for a in answers:
            if not any(squash(a) in t for t in pages_text):
                problems.append(f"the answer {a!r} is on no notebook's page")
    page.close()
    return problems, rows


def table(rows):
    """The rows of check_notes as lines of a table."""
    lines = [f"    {'page':40} {'clipped':>7} {'split':>5} {'charts':>9} {'PDF pages':>9}"]
    for name, clipped, split, found, want, pdf_pages in rows:
        charts = f"{found}/{want if want is not None else '?'}"
        lines.append(f"    {name:40} {clipped:>7} {split:>5} {charts:>9} {pdf_pages if pdf_pages is not None else '-':>9}")
    return lines


def load_answers(path):
    data = json.load(open(path, encoding="utf-8"))
    return data["answers"] if isinstance(data, dict) else data


def with_answers(src_dir, dst_dir):
    """Copies every executed notebook of src_dir into dst_dir with a learner's answers written
    in: each `answer` cell gets a sentence of its own, each `prediction` a guess; a notebook
    without an answer cell gets one at its end. Returns the answers written."""
    import nbformat.v4 as v4

    shutil.rmtree(dst_dir, ignore_errors=True)
    os.makedirs(dst_dir)
    written = []
    # The lesson's notebooks only (other tests leave executed notebooks of their own there).
    lesson = sorted(os.path.basename(p) for p in glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    for path in [os.path.join(src_dir, name) for name in lesson]:
        stem = os.path.basename(path)[:-len(".ipynb")]
        nb = nbformat.read(path, as_version=4)
        count = 0
        for i, cell in enumerate(nb.cells):
            tags = cell.get("metadata", {}).get("tags", [])
            if "answer" in tags and cell.cell_type == "markdown":
                text = f"Learner answer {stem} #{i}: a network, independent failures and no shared clock."
                cell.source = cell.source.rstrip() + "\n\n" + text
            elif "prediction" in tags and cell.cell_type == "code" and '""' in cell.source:
                text = f"guess {stem} #{i}"
                cell.source = cell.source.replace('""', f'"{text}"', 1)
            else:
                continue
            written.append(text)
            count += 1
        if not count:
            text = f"Learner answer {stem}: my own words, written after the last cell."
            cell = v4.new_markdown_cell(f"**Your answer:** {text}")
            cell.metadata["tags"] = ["answer"]
            nb.cells.append(cell)
            written.append(text)
        nbformat.write(nb, os.path.join(dst_dir, os.path.basename(path)))
    return written


def main(argv):
    notes_dir, notebooks_dir, answers, report = None, None, [], False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--notebooks":
            notebooks_dir = args.pop(0)
        elif a == "--answers":
            answers += load_answers(args.pop(0))
        elif a == "--answer":
            answers.append(args.pop(0))
        elif a == "--report":
            report = True
        elif a.startswith("-") or notes_dir:
            print(__doc__)
            return 2
        else:
            notes_dir = a
    if not notes_dir:
        print(__doc__)
        return 2
    started = time.monotonic()
    problems, rows = check_notes(notes_dir, notebooks_dir, answers)
    print("\n".join(table(rows)))
    for p in problems:
        print(("     " if report else "FAIL ") + p)
    print(f"export check: {len(rows)} pages, {len(problems)} problems, {time.monotonic() - started:.1f} s")
    if report:
        return 0
    print(f"export: {len(rows) - len({p.split(':')[0] for p in problems})} passed, "
          f"{len({p.split(':')[0] for p in problems})} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
