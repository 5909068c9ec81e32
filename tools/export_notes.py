"""Exports the lesson as study notes: every notebook executed as saved (with the learner's
edits and answers), written as

  DIR/NN-topic.html                  one self-contained page: charts inline as SVG data URIs,
                                     no external scripts or styles, readable offline
  DIR/NN-topic.md + NN-topic_files/  Markdown with each chart as an .svg file beside it
  DIR/NN-topic.pdf                   where a Chromium is installed (a headless print of the HTML)

Usage: export_notes.py [DIR] [NOTEBOOK...]   (default DIR notes/, default every notebook)
"""
import copy
import glob
import html
import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
from nbconvert import HTMLExporter, MarkdownExporter
from traitlets.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_notebooks import execute, problems  # noqa: E402

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #222; }
pre, code { font-family: ui-monospace, monospace; font-size: 0.9em; }
.jp-InputArea pre, .input_area pre { background: #f5f5f5; padding: 0.6em; border-radius: 4px; overflow-x: auto; }
.jp-OutputArea pre, .output_area pre { background: #fff; border-left: 3px solid #ddd; padding: 0.4em 0.6em; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
img { max-width: 100%; height: auto; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }
"""


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def to_html(nb, title):
    """A complete offline page: nbconvert's basic template (no scripts) in our own wrapper."""
    exporter = HTMLExporter(template_name="basic")
    body, _ = exporter.from_notebook_node(nb)
    # The basic template loads nothing, but be strict: no script may reach outside the page.
    body = re.sub(r"<script\b[^>]*\bsrc=[^>]*>\s*</script>", "", body, flags=re.I)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def to_markdown(nb, stem):
    """Markdown with charts as .svg files: drop each chart's text/html twin so the exporter
    picks image/svg+xml and extracts it to a file."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data:
                data.pop("text/html", None)
    c = Config()
    c.ExtractOutputPreprocessor.enabled = True
    c.ExtractOutputPreprocessor.output_filename_template = "chart_{cell_index}_{index}{extension}"
    exporter = MarkdownExporter(config=c)
    body, resources = exporter.from_notebook_node(nb, resources={"output_files_dir": f"{stem}_files"})
    return body, resources.get("outputs", {})


def export(path, out_dir, chromium):
    stem = os.path.splitext(os.path.basename(path))[0]
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    execute(nb, os.path.dirname(os.path.abspath(path)))
    failed = problems(nb)
    page = to_html(nb, stem)
    html_path = os.path.join(out_dir, f"{stem}.html")
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(page)
    md, files = to_markdown(nb, stem)
    with open(os.path.join(out_dir, f"{stem}.md"), "w", encoding="utf-8") as f:
        f.write(md)
    for name, data in files.items():
        target = os.path.join(out_dir, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    made = [f"{stem}.html", f"{stem}.md ({len(files)} charts in {stem}_files/)"]
    if chromium:
        pdf = os.path.join(out_dir, f"{stem}.pdf")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--print-to-pdf={pdf}", "--no-pdf-header-footer", "file://" + os.path.abspath(html_path)]
        result = subprocess.run(cmd, capture_output=True, timeout=120)
        made.append(f"{stem}.pdf" if result.returncode == 0 and os.path.exists(pdf) else "no PDF (chromium failed)")
    print(f"    wrote {', '.join(made)} in {time.monotonic() - started:.1f} s", flush=True)
    for index, message in failed:
        print(f"    warning: cell {index} of {path} shows an error: {message.splitlines()[0]}")
    return not failed


def main(argv):
    out_dir = argv[0] if argv else "notes"
    paths = argv[1:] or sorted(glob.glob("notebooks/*.ipynb"))
    os.makedirs(out_dir, exist_ok=True)
    chromium = find_chromium()
    if chromium:
        print(f"PDF: printing each page with {chromium}")
    else:
        print("PDF: skipped, no Chromium found (Debian/Ubuntu: apt-get install chromium); HTML and Markdown only")
    clean = True
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path}: executing and exporting", flush=True)
        clean &= export(path, out_dir, chromium)
    print(f"study notes in {os.path.abspath(out_dir)}/")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
