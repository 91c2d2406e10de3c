"""The look of the pages (clvlib.pipeline.style) and the report renderer (clvlib.pipeline.execute.render_html).

No kernel: the notebooks here are built with their outputs already in place.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest

from clvlib.pipeline.execute import render_html
from clvlib.pipeline.style import BASE_CSS, REPORT_CSS, external_references, mark_numbers, offline, page

# A 1x1 PNG: the report must embed figures, not link them.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


@pytest.mark.parametrize(
    ("tag", "external"),
    [
        ('<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>', True),
        ("<script type='text/javascript' src='//cdn.jsdelivr.net/npm/mathjax@2/MathJax.js'></script>", True),
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Inter">', True),
        ('<style>@import url("https://fonts.googleapis.com/css2?family=Inter");</style>', True),
        ("<script>var inline = 1;</script>", False),
        ('<link rel="icon" href="favicon.ico">', False),
        ('<img src="data:image/png;base64,AAAA">', False),
    ],
    ids=["require-cdn", "mathjax-protocol-relative", "font-link", "css-import", "inline-script", "local-link",
         "inline-image"],
)
def test_external_references_are_found_and_removed_and_inline_ones_kept(tag, external):
    text = f"<p>before</p>{tag}<p>after</p>"
    assert bool(external_references(text)) is external
    cleaned = offline(text)
    assert external_references(cleaned) == []
    assert (cleaned != text) is external and ("//" in cleaned) is False
    assert "<p>before</p>" in cleaned and "<p>after</p>" in cleaned


@pytest.mark.parametrize(
    ("cell", "numeric"),
    [("<td>1,234</td>", True), ("<td>-0.158</td>", True), ("<td>12.5%</td>", True), ("<td>1e-05</td>", True),
     ('<td id="T_1_row0_col2" class="data row0 col2" >0.186</td>', True), ("<td>—</td>", True),
     ("<td>BG/NBD</td>", False), ("<td>2018-02-28</td>", False), ("<td>0.1 to 0.2</td>", False),
     ("<th>12</th>", False)],
    ids=["thousands", "negative", "percent", "exponent", "styler-cell", "missing", "text", "date", "range", "header"],
)
def test_only_cells_holding_a_number_are_marked_for_right_alignment(cell, numeric):
    assert ("data-num" in mark_numbers(cell)) is numeric
    assert re.sub(r" data-num", "", mark_numbers(cell)) == cell  # nothing else changes


def test_a_page_is_complete_small_and_escapes_its_title():
    text = page("A < B", "<p>body</p>")
    assert text.startswith("<!DOCTYPE html>") and "<title>A &lt; B</title>" in text
    assert "<main>\n<p>body</p>\n</main>" in text and "<script" not in text
    assert len(BASE_CSS) < 4000 and len(REPORT_CSS) < 8000  # nbconvert's lab template inlines ~264 KB


def report_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# 09 · A stage\nWhat it does."))
    code = nbformat.v4.new_code_cell("secret_input = 1", metadata={"tags": ["remove-input"]})
    code.outputs = [
        nbformat.v4.new_output("display_data", {"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("execute_result", {
            "text/html": "<table><thead><tr><th>model</th><th>gini</th></tr></thead>"
                         "<tbody><tr><td>BG/NBD</td><td>0.186</td></tr></tbody></table>",
            "text/plain": "table"}, execution_count=1),
        nbformat.v4.new_output("display_data", {
            "text/html": '<script src="https://cdn.example.org/widget.js"></script><b>shown</b>'}),
    ]
    nb.cells.append(code)
    nb.cells.append(nbformat.v4.new_code_cell("dropped_cell = 1", metadata={"tags": ["remove-cell"]}))
    nbformat.write(nb, path)
    return path


def test_a_report_is_self_contained_small_and_keeps_figures_tables_and_hidden_input(tmp_path):
    out = render_html(report_notebook(tmp_path / "09.ipynb"), tmp_path / "09.html", title="09 · A stage")
    text = out.read_text()
    assert external_references(text) == [] and "<script" not in text
    assert "cdnjs" not in text and "mathjax" not in text.lower() and "mermaid" not in text.lower()
    assert f"data:image/png;base64,{PNG}" in text  # the figure is embedded
    assert "<td data-num>0.186</td>" in text and "<td>BG/NBD</td>" in text
    assert "<b>shown</b>" in text
    assert "secret_input" not in text and "dropped_cell" not in text
    assert "<title>09 · A stage</title>" in text
    assert len(text) < 20_000  # page chrome: a few KB of CSS


def test_a_failed_report_says_so_first(tmp_path):
    text = render_html(report_notebook(tmp_path / "09.ipynb"), tmp_path / "f.html", error="ValueError: x <y>").read_text()
    assert text.index("This stage failed.") < text.index("<h1")
    assert "ValueError: x &lt;y&gt;" in text
