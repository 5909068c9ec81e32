"""Stage 7: notebook scenarios that need more than one run, executed in the real evcxr kernel:

1. a copy of 03-simulation with the loss parameter changed from 0.05 to 0.5 runs, and its
   statistics and charts change the way they must (lower delivery ratio, more crosses);
2. every notebook with `seed` or `loss` in a cell tagged `parameters` runs with two other
   seeds (1 and 99) and loss 0.3, once with every prediction written and once with none, and
   every cell still shows what its `distlab` metadata expects: the text around the cells must
   hold for any run;
3. notebook 07 with steps 1 to 3 done in the learner's own cells, as the hints say (the
   skeleton's TODO lines replaced): each of those checks passes 200 of 200, the message type
   defined in the cell and no `:dep` line beyond distlab's;
4. the study-notes export of 05 with an answer in every answer cell (a definition holding a
   double quote among them) gives HTML with the charts inline as SVG and every answer, and
   Markdown with every answer and the .svg files it links.

Run after stage 6, whose executed copies (target/notebooks/) it compares with. Two scenarios
run at a time with `-n 2` (pytest-xdist), each worker's kernels with their own evcxr cache.
"""
import glob
import html
import os
import re
import tempfile

import nbformat
import pytest

from distlab_tools import NOTEBOOKS
from distlab_tools.export_notes import export
from distlab_tools.run_notebooks import execute, problems

pytestmark = pytest.mark.scenarios
DROP_FILL = 'fill="#D55E00"'


def outputs(nb, mime):
    """(cell index, content) of every output of this MIME type."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get(mime)
            if value is not None:
                found.append((i, value if isinstance(value, str) else "".join(value)))
    return found


def delivery_ratio(nb):
    for _, h in outputs(nb, "text/html"):
        m = re.search(r"<td>delivery ratio</td><td>([0-9.]+)</td>", h)
        if m:
            return float(m.group(1))
    raise AssertionError("no statistics table with a delivery ratio")


def space_time(nb):
    for _, svg in outputs(nb, "image/svg+xml"):
        if "space-time diagram" in svg:
            return svg
    raise AssertionError("no space-time diagram")


def test_loss_change(kernel, executed_notebooks, figures):
    name = "03-simulation.ipynb"
    original = nbformat.read(os.path.join(executed_notebooks, name), as_version=4)
    changed = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    cells = [c for c in changed.cells if c.cell_type == "code" and "let loss = 0.05;" in c.source]
    assert len(cells) == 1, f"expected one parameter cell with `let loss = 0.05;`, found {len(cells)}"
    cells[0].source = cells[0].source.replace("let loss = 0.05;", "let loss = 0.5;")
    execute(changed, NOTEBOOKS)
    bad = problems(changed)
    assert not bad, f"the changed copy failed: {bad[:3]}"
    before, after = delivery_ratio(original), delivery_ratio(changed)
    assert after < before - 0.2, f"delivery ratio {before} with loss 0.05, {after} with loss 0.5"
    crosses_before, crosses_after = space_time(original).count(DROP_FILL), space_time(changed).count(DROP_FILL)
    assert crosses_after > crosses_before, f"crosses: {crosses_before} -> {crosses_after}"
    charts_before = [svg for _, svg in outputs(original, "image/svg+xml")]
    charts_after = [svg for _, svg in outputs(changed, "image/svg+xml")]
    assert len(charts_before) == len(charts_after), "the same charts should be drawn"
    assert any(a != b for a, b in zip(charts_before, charts_after)), "no chart changed"
    figures(f"delivery ratio {before:.4f} -> {after:.4f}, crosses {crosses_before} -> {crosses_after}")


# Notebook 07, steps 1 to 3 as a learner finishes them: (the skeleton's text, the learner's).
# When a skeleton changes, change its pair here too: this is what the hints lead to.
def test_07_steps_done_in_cells_pass(kernel, figures, solve_07):
    nb = nbformat.read(os.path.join(NOTEBOOKS, "07-your-own-node.ipynb"), as_version=4)
    checks = solve_07(nb, (1, 2, 3))
    assert len(checks) == 3, f"expected the three checks of steps 1-3, found {len(checks)}"
    for c in checks:
        c.metadata["distlab"] = {"expect": ["text/html"], "contains": ["passed 200 of 200"]}
    execute(nb, NOTEBOOKS)
    bad = problems(nb)
    assert not bad, f"07 with steps 1-3 done: {bad[:3]}"
    figures("07: steps 1-3 done in the learner's cells pass 200 of 200 each")


SEED = re.compile(r"^(\s*let\s+seed\s*(?::\s*u64)?\s*=\s*)[^;]+;", re.M)
LOSS = re.compile(r"^(\s*let\s+loss\s*(?::\s*f64)?\s*=\s*)[^;]+;", re.M)
VARIANTS = [(1, 0.3, "0.5"), (99, 0.3, "")]


def tagged(cell, tag):
    return tag in cell.get("metadata", {}).get("tags", [])


def variants():
    """(notebook, seed, loss, prediction) for every notebook with seed or loss parameters."""
    found = []
    for path in sorted(glob.glob(os.path.join(NOTEBOOKS, "[0-9]*.ipynb"))):
        base = nbformat.read(path, as_version=4)
        if any(tagged(c, "parameters") and (SEED.search(c.source) or LOSS.search(c.source)) for c in base.cells):
            found += [(os.path.basename(path), seed, loss, guess) for seed, loss, guess in VARIANTS]
    assert found, "no notebook has seed or loss parameters"
    return found


@pytest.mark.parametrize("name, seed, loss, guess", variants())
def test_parameter_variant(name, seed, loss, guess, kernel):
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    for c in nb.cells:
        if tagged(c, "parameters"):
            c.source = SEED.sub(lambda m: f"{m.group(1)}{seed};", c.source)
            c.source = LOSS.sub(lambda m: f"{m.group(1)}{loss};", c.source)
        if tagged(c, "prediction"):
            c.source = re.sub(r'let my_prediction = "[^"]*";', f'let my_prediction = "{guess}";', c.source)
    execute(nb, NOTEBOOKS)
    bad = problems(nb)
    assert not bad, f"cell {bad[0][0]}: {bad[0][1][:500]}"


def fill_answers(nb):
    """Writes a distinct answer into every answer cell; returns the texts to look for."""
    wanted = []
    for i, c in enumerate(nb.cells):
        if not tagged(c, "answer"):
            continue
        if c.cell_type == "markdown":
            text = f"Answer {i}: the sender only knows what comes back to it"
            c.source = f"**Your answer:** {text}"
            wanted.append(text)
        elif 'r#""#' in c.source:
            def definition(m, k=[0]):
                k[0] += 1
                return f'r#"Definition {k[0]} of cell {i}: machines that "cooperate" over a network"#'
            c.source = re.sub(r'r#""#', definition, c.source)
            wanted += [f"Definition {k} of cell {i}" for k in range(1, c.source.count("Definition ") + 1)]
        elif "let my_quiz" in c.source:
            c.source = re.sub(r'""', '"b"', c.source)
    return wanted


def test_export_with_answer(kernel, figures):
    name = "05-glossary-and-reflection.ipynb"
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    wanted = fill_answers(nb)
    assert len(wanted) >= 10, f"only {len(wanted)} answers written into {name}"
    marker = "My own answer: my phone and a chat server already form a distributed system"
    wanted.append(marker)
    nb.cells.append(nbformat.v4.new_markdown_cell(marker))
    nb.cells.append(nbformat.v4.new_code_cell(
        'Topology::new("answer").client("my phone").server("chat server").link("my phone", "chat server")?.chart()'))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(NOTEBOOKS, ".scenario-" + name)
        nbformat.write(nb, src)
        try:
            assert export(src, tmp, None), "the exported notebook shows an error"
        finally:
            os.remove(src)
        stem = ".scenario-" + name[:-len(".ipynb")]
        page = open(os.path.join(tmp, stem + ".html"), encoding="utf-8").read()
        missing = [w for w in wanted if html.escape(w, quote=False) not in page and w not in page]
        assert not missing, f"answers missing from the HTML: {missing[:3]}"
        assert page.count("data:image/svg+xml;base64,") >= 2, "charts are not inline in the HTML"
        assert not re.search(r"<script[^>]+src=", page), "the HTML loads an external script"
        assert "my phone" not in page or "chat server" in page
        md = open(os.path.join(tmp, stem + ".md"), encoding="utf-8").read()
        missing = [w for w in wanted if w not in md]
        assert not missing, f"answers missing from the Markdown: {missing[:3]}"
        links = re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", md)
        assert len(links) >= 2, f"Markdown links {len(links)} .svg files"
        for link in links:
            path = os.path.join(tmp, link)
            assert os.path.exists(path), f"{link} is linked but missing"
            head = open(path, encoding="utf-8").read(200)
            assert "<svg" in head, f"{link} is not an SVG"
        figures(f"{len(wanted)} answers in HTML and Markdown; HTML with {page.count('data:image/svg+xml;base64,')} "
                f"inline charts, Markdown with {len(links)} .svg files")
