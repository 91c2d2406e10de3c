"""Opening the pages of a run in a real browser (headless Chromium through Playwright): checks and screenshots.

Used by the browser test (``tests/pipeline/test_browser.py``) and by ``scripts/screenshots.py``,
which regenerates the README's pictures. Playwright is imported only when a browser is opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "VIEWPORT", "PageCheck", "browser_missing", "open_browser", "check_page"]

#: Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it). Playwright's own download is not used.
CHROMIUM = Path(os.environ.get("CLVLIB_CHROMIUM", "/usr/bin/chromium"))
#: Flags for a headless run in a container, without any background network traffic of the browser itself.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync")
#: The width the reports are checked at (a laptop screen), and the height of a first screen.
VIEWPORT = {"width": 1280, "height": 900}

# Runs in the page: its width against the viewport's, the tables that stick out of it (outside any
# scrolling wrapper), the printed output of a notebook cell (stdout/stderr: print lines, progress bars,
# raw warnings), and every link's target.
_MEASURE = """() => {
  const vw = window.innerWidth;
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const wide = [...document.querySelectorAll('table')]
      .filter(t => t.getBoundingClientRect().right > vw + 1 && !scrolls(t))
      .map(t => (t.innerText || '').trim().slice(0, 80));
  const printed = [...document.querySelectorAll(
      '.output_stream, [data-mime-type="application/vnd.jupyter.stdout"], [data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(o => (o.innerText || '').trim().slice(0, 80));
  return {scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
          viewport: vw, wideTables: wide, tables: document.querySelectorAll('table').length, printed: printed,
          images: [...document.images].map(i => ({src: i.src.slice(0, 30), ok: i.complete && i.naturalWidth > 0})),
          links: [...document.querySelectorAll('a[href]')].map(a => a.href), title: document.title};
}"""


@dataclass
class PageCheck:
    """What a page did when opened.

    Attributes
    ----------
    path
        The page.
    console_errors
        Console messages of type ``error`` and uncaught page errors.
    requests
        Every URL the page requested (its own ``file://`` URL included).
    outside
        The requests that are neither ``data:`` nor a ``file://`` under the allowed root.
    broken_links
        Links to a file that does not exist, or that lies outside the allowed root (``#`` anchors
        within the page are fine).
    scroll_width, viewport
        The page's width (``documentElement.scrollWidth``) and the viewport's.
    wide_tables
        The start of the text of each table sticking out of the viewport outside a scrolling wrapper.
    tables
        Number of tables on the page.
    broken_images
        Images that did not load.
    printed
        The start of each printed output of a report cell (a ``print``, a progress bar, a raw
        library warning): a report shows tables, figures and sentences, never a console.
    screenshot
        Where the screenshot was saved (``None`` when none was asked for).
    """

    path: Path
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    scroll_width: int = 0
    viewport: int = 0
    wide_tables: list[str] = field(default_factory=list)
    tables: int = 0
    broken_images: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        """Every failed check, in words (empty when the page is fine)."""
        out = [f"console error: {m}" for m in self.console_errors]
        out += [f"network request: {u}" for u in self.outside]
        out += [f"broken link: {u}" for u in self.broken_links]
        out += [f"broken image: {u}" for u in self.broken_images]
        out += [f"printed output in the page: {t!r}" for t in self.printed]
        if self.scroll_width > self.viewport:
            out.append(f"page is {self.scroll_width} px wide in a {self.viewport} px viewport "
                       f"(tables sticking out: {self.wide_tables or 'none; another element'})")
        return out


def browser_missing() -> str | None:
    """Why no browser can be opened here (``None`` when Playwright and Chromium are both present)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -r requirements.txt)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CLVLIB_CHROMIUM)"
    return None


@contextmanager
def open_browser() -> Iterator[Any]:
    """A headless Chromium (Debian's, see :data:`CHROMIUM`), closed on exit.

    Raises
    ------
    RuntimeError
        When Playwright or Chromium is missing (the message says which and how to install it).
    """
    why = browser_missing()
    if why:
        raise RuntimeError(f"cannot open a browser: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def check_page(browser: Any, page_path: str | Path, root: str | Path, screenshot: str | Path | None = None,
               full_page: bool = True, height: int | None = None) -> PageCheck:
    """Open ``page_path`` at :data:`VIEWPORT` width and check it: console, network, links, width, images, printed output.

    Parameters
    ----------
    browser
        From :func:`open_browser`.
    page_path
        The HTML file.
    root
        The run's folder: requests and links may only reach files under it.
    screenshot
        Where to save a PNG of the page (``None``: no screenshot).
    full_page
        Screenshot the whole page (True) or the first ``height`` pixels.
    height
        Viewport height for the screenshot (default :data:`VIEWPORT`'s).

    Returns
    -------
    PageCheck
        What the page did; :attr:`PageCheck.problems` lists what failed.
    """
    page_path, root = Path(page_path).resolve(), Path(root).resolve()
    result = PageCheck(path=page_path)
    context = browser.new_context(viewport={"width": VIEWPORT["width"], "height": height or VIEWPORT["height"]},
                                  offline=False)
    page = context.new_page()
    page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: result.console_errors.append(str(exc)))
    page.on("request", lambda r: result.requests.append(r.url))
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        m = page.evaluate(_MEASURE)
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=full_page)
            result.screenshot = Path(screenshot)
    finally:
        context.close()
    for url in result.requests:
        local = _local_path(url)
        if not (url.startswith("data:") or (local is not None and _inside(local, root))):
            result.outside.append(url)
    for href in m["links"]:
        local = _local_path(href.split("#")[0])
        if local is not None and local == page_path:
            continue  # an anchor within the page
        if local is None or not _inside(local, root) or not local.exists():
            result.broken_links.append(href)
    result.scroll_width = max(int(m["scrollWidth"]), int(m["bodyScrollWidth"]))
    result.viewport, result.wide_tables, result.tables = int(m["viewport"]), list(m["wideTables"]), int(m["tables"])
    result.broken_images = [i["src"] for i in m["images"] if not i["ok"]]
    result.printed = list(m["printed"])
    return result
