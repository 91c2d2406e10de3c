"""The look of every page the pipeline writes: one small stylesheet, a page shell, and offline post-processing.

Reports and index pages are opened from disk, often without a network, so a page carries
everything it needs: no external script, stylesheet or font. :func:`offline` removes any
external reference nbconvert or an output might add; :func:`mark_numbers` lets the stylesheet
right-align cells that hold a number.
"""

from __future__ import annotations

import html
import re

__all__ = ["BASE_CSS", "REPORT_CSS", "page", "offline", "mark_numbers", "external_references"]

#: Shared by the reports and the index pages: type, colours, tables, code.
BASE_CSS = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1f2328;
line-height:1.5;background:#fff;font-size:15px}
main{max-width:1100px;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.7rem;margin:.4rem 0 .6rem;line-height:1.25} h2{font-size:1.3rem;margin:1.8rem 0 .5rem;
padding-bottom:.2rem;border-bottom:1px solid #d8dee4} h3{font-size:1.1rem;margin:1.3rem 0 .4rem}
a{color:#0969da} a:visited{color:#6639ba}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em;background:#f6f8fa;
padding:.1rem .3rem;border-radius:4px}
pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem;background:#f6f8fa;
padding:.6rem .8rem;border-radius:6px;overflow-x:auto;white-space:pre}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem;vertical-align:top;text-align:left}
thead th{background:#f6f8fa;font-weight:600;border-bottom:2px solid #afb8c1}
tbody tr:nth-child(even){background:#fafbfc}
td[data-num]{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto}
.table-wrap{max-width:100%;overflow-x:auto}
"""

#: The stage reports (nbconvert's ``basic`` template: ``div.cell`` > ``div.output_area`` > ...).
REPORT_CSS = BASE_CSS + """
.cell{margin:.4rem 0}
.output_subarea,.text_cell_render{max-width:100%;overflow-x:auto}
.output_png{margin:.6rem 0}
.output_stream pre,.output_text pre{background:none;padding:.2rem 0}
.output_stderr{background:#fff8c5;border-left:4px solid #d4a72c;padding:.3rem .6rem;border-radius:4px}
.output_stderr pre{background:none;margin:0;white-space:pre-wrap}
.output_error pre{background:#ffebe9;border-left:4px solid #cf222e}
.anchor-link{visibility:hidden;text-decoration:none;margin-left:.3rem;color:#8c959f}
h1:hover .anchor-link,h2:hover .anchor-link,h3:hover .anchor-link{visibility:visible}
details summary{cursor:pointer}
.ansi-red-fg,.ansi-red-intense-fg{color:#cf222e} .ansi-green-fg,.ansi-green-intense-fg{color:#1a7f37}
.ansi-yellow-fg,.ansi-yellow-intense-fg{color:#9a6700} .ansi-blue-fg,.ansi-blue-intense-fg{color:#0969da}
.ansi-cyan-fg,.ansi-cyan-intense-fg{color:#1b7c83} .ansi-bold{font-weight:700}
"""

# A tag that fetches something from elsewhere: a script or stylesheet with a src/href that is not
# inline (data:), or an @import / font URL inside a style element.
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?!data:)[^\"'\s>]+[^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//[^;]*;", re.I)
_NUMBER_CELL = re.compile(
    r"<td(\s[^>]*)?>(\s*(?:[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?\s*%?|—|-|nan|NaN)\s*)</td>")


def external_references(text: str) -> list[str]:
    """The tags and CSS imports of ``text`` that would fetch something over the network (empty when offline).

    Parameters
    ----------
    text
        An HTML page.

    Returns
    -------
    list of str
        Each offending tag or ``@import`` as found, in page order.
    """
    found = [(m.start(), m.group(0)) for rx in (_EXTERNAL_SCRIPT, _EXTERNAL_LINK, _CSS_IMPORT) for m in rx.finditer(text)]
    return [tag for _, tag in sorted(found)]


def offline(text: str) -> str:
    """``text`` without external scripts, stylesheets or CSS imports (inline ones stay).

    Examples
    --------
    >>> offline('<script src="https://cdn.example/x.js"></script><p>kept</p>')
    '<p>kept</p>'
    """
    for rx in (_EXTERNAL_SCRIPT, _EXTERNAL_LINK, _CSS_IMPORT):
        text = rx.sub("", text)
    return text


def mark_numbers(text: str) -> str:
    """Add ``data-num`` to every ``<td>`` that holds only a number (or a missing-value mark), so CSS right-aligns it.

    Examples
    --------
    >>> mark_numbers('<td>1,234.5</td><td class="x">12%</td><td>abc</td>')
    '<td data-num>1,234.5</td><td class="x" data-num>12%</td><td>abc</td>'
    """
    return _NUMBER_CELL.sub(lambda m: f"<td{m.group(1) or ''} data-num>{m.group(2)}</td>", text)


def page(title: str, body: str, css: str = BASE_CSS) -> str:
    """A complete, self-contained HTML page: ``body`` inside ``<main>``, ``css`` inline, no scripts.

    Parameters
    ----------
    title
        Text of the ``<title>`` (escaped here).
    body
        HTML of the page's content.
    css
        The stylesheet, inlined in ``<head>``.

    Returns
    -------
    str
        The page.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style></head>\n"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )
