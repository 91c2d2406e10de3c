"""Render a workspace's index and stage reports to PNGs with headless Chromium (the browser test's code).

Each page is also checked as the browser test checks it (console errors, network requests, links,
width); a problem is printed and makes the exit status 1, the picture is still written.

Examples
--------
The README's two pictures, from a real-data run made outside the repository::

    python run_all.py --raw-dir ../shared/data --out-root /tmp/shots
    python scripts/screenshots.py /tmp/shots/outputs/olist --out docs --pages index 06_evaluate \\
        --name 06_evaluate=evaluation --height 1600

Every page of a demo run, whole, into a folder::

    python scripts/screenshots.py /tmp/a9/outputs/demo-6000-seed42 --out /tmp/demo-shots --full
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clvlib.pipeline.browser import VIEWPORT, browser_missing, check_page, open_browser  # noqa: E402


def pages_of(workspace: Path, names: list[str] | None) -> list[Path]:
    """The workspace's ``index.html`` and stage reports (``NN_name.html``), or the ``names`` asked for."""
    if names:
        return [workspace / (n if n.endswith(".html") else f"{n}.html") for n in names]
    return [workspace / "index.html", *sorted(p for p in workspace.glob("[0-9][0-9]_*.html"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path, help="a workspace folder, e.g. /tmp/run/outputs/olist")
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs/)")
    ap.add_argument("--pages", nargs="*", help="pages to render, e.g. index 06_evaluate (default: all)")
    ap.add_argument("--name", action="append", default=[], metavar="PAGE=FILE",
                    help="save PAGE as FILE.png instead of PAGE.png (repeatable)")
    ap.add_argument("--full", action="store_true", help="the whole page (default: the first --height pixels)")
    ap.add_argument("--height", type=int, default=1400, help=f"height of the picture (width {VIEWPORT['width']})")
    ap.add_argument("--colors", type=int, default=0,
                    help="save with a palette of this many colours (e.g. 256: about half the size; needs Pillow)")
    args = ap.parse_args(argv)

    why = browser_missing()
    if why:
        print(f"screenshots: {why}", file=sys.stderr)
        return 2
    workspace = args.workspace.resolve()
    if not (workspace / "index.html").is_file():
        print(f"screenshots: {workspace} has no index.html; give a workspace folder of a run "
              "(<out_root>/outputs/<name>)", file=sys.stderr)
        return 2
    rename = dict(item.split("=", 1) for item in args.name)
    status = 0
    with open_browser() as browser:
        for page in pages_of(workspace, args.pages):
            if not page.is_file():
                print(f"  {page.name}: not in the workspace", file=sys.stderr)
                status = 1
                continue
            png = args.out / f"{rename.get(page.stem, page.stem)}.png"
            check = check_page(browser, page, workspace.parent, screenshot=png, full_page=args.full,
                               height=None if args.full else args.height)
            if args.colors:
                from PIL import Image

                with Image.open(png) as im:
                    im.convert("RGB").quantize(colors=args.colors).save(png, optimize=True)
            print(f"{png}  ({png.stat().st_size / 1024:,.0f} KB, page {page.stat().st_size / 1024:,.0f} KB)")
            for problem in check.problems:
                print(f"  {page.name}: {problem}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
