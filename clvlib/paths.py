"""Where things are: the project root, the raw Kaggle files, the output folders."""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = [
    "OLIST_FILES",
    "CLICKSTREAM_FILE",
    "EXPECTED_FILES",
    "project_root",
    "resolve",
    "find_raw_files",
    "has_raw_data",
    "is_demo_dir",
    "DEMO_MARKER",
]

#: Logical table name -> file name exactly as Kaggle ships it.
OLIST_FILES: dict[str, str] = {
    "customers": "olist_customers_dataset.csv",
    "orders": "olist_orders_dataset.csv",
    "order_items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
    "products": "olist_products_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "geolocation": "olist_geolocation_dataset.csv",
    "category_translation": "product_category_name_translation.csv",
}
CLICKSTREAM_FILE = "ecommerce_clickstream_transactions.csv"
EXPECTED_FILES: dict[str, str] = {**OLIST_FILES, "clickstream": CLICKSTREAM_FILE}

#: Tables the pipeline cannot run without (geolocation, sellers, ... are optional).
REQUIRED_TABLES = ("customers", "orders", "payments", "clickstream")

#: File written into a generated demo folder; reports use it to label demo data.
DEMO_MARKER = "DEMO_DATA.json"


def project_root() -> Path:
    """Return the project root: the first folder above this package holding ``pyproject.toml``.

    Resolved from the package location, not the working directory, because
    Jupyter, papermill and nbval start kernels in different folders.
    """
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError(
        f"Could not find pyproject.toml above {here}; is clvlib installed outside the project?"
    )


def resolve(path: str | Path, root: str | Path | None = None) -> Path:
    """Resolve ``path`` against the project root (or ``root``) unless it is absolute."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    return (Path(root) if root is not None else project_root()) / p


def is_demo_dir(raw_dir: str | Path) -> bool:
    """True when ``raw_dir`` holds generated demo data (it carries :data:`DEMO_MARKER`)."""
    return (Path(raw_dir) / DEMO_MARKER).is_file()


def _extract_zips(raw_dir: Path, extract_dir: Path, wanted: set[str]) -> None:
    """Extract the wanted CSV members of every ``.zip`` below ``raw_dir`` into ``extract_dir``."""
    for zpath in sorted(raw_dir.rglob("*.zip")):
        try:
            with zipfile.ZipFile(zpath) as zf:
                for member in zf.namelist():
                    name = Path(member).name
                    if name not in wanted:
                        continue
                    target = extract_dir / zpath.stem / name
                    info = zf.getinfo(member)
                    if target.is_file() and target.stat().st_size == info.file_size:
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    tmp = target.with_suffix(".part")
                    with zf.open(member) as src, open(tmp, "wb") as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
                    tmp.replace(target)
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{zpath} is not a readable zip file ({exc}); download it again.") from exc


def find_raw_files(
    raw_dir: str | Path,
    extract_dir: str | Path | None = None,
    required: tuple[str, ...] = REQUIRED_TABLES,
) -> dict[str, Path]:
    """Locate the Kaggle CSVs under ``raw_dir`` at any depth, or inside ``.zip`` files.

    Parameters
    ----------
    raw_dir
        Folder holding the unpacked Kaggle downloads (any layout) or the zips as served.
    extract_dir
        Where zip members are extracted; the raw folder itself is never written to.
        Defaults to ``data/interim/unzipped`` under the project root.
    required
        Logical table names that must be found; a missing one raises.

    Returns
    -------
    dict
        Logical table name (see :data:`EXPECTED_FILES`) -> path, for the files found.

    Raises
    ------
    FileNotFoundError
        If ``raw_dir`` does not exist or a required file is found nowhere under it.
    """
    raw = Path(raw_dir)
    if not raw.is_dir():
        raise FileNotFoundError(f"Raw data folder {raw} does not exist.")
    by_name = {v: k for k, v in EXPECTED_FILES.items()}
    found: dict[str, Path] = {}
    for path in sorted(raw.rglob("*.csv"), key=lambda p: (len(p.parts), str(p))):
        key = by_name.get(path.name)
        if key and key not in found:
            found[key] = path
    missing = set(EXPECTED_FILES) - set(found)
    if missing and any(raw.rglob("*.zip")):
        ext = Path(extract_dir) if extract_dir else project_root() / "data" / "interim" / "unzipped"
        _extract_zips(raw, ext, {EXPECTED_FILES[k] for k in missing})
        # only what this folder's zips hold, never files extracted from another raw folder earlier
        extracted = [p for z in sorted(raw.rglob("*.zip")) for p in sorted((ext / z.stem).glob("*.csv"))]
        for path in extracted:
            key = by_name.get(path.name)
            if key in missing and key not in found:
                found[key] = path
    lacking = [k for k in required if k not in found]
    if lacking:
        names = ", ".join(EXPECTED_FILES[k] for k in lacking)
        raise FileNotFoundError(
            f"Missing raw file(s) under {raw}: {names}. Unpack the Kaggle downloads "
            "olistbr/brazilian-ecommerce and fronkongames/ecommerce-clickstream-transactions "
            "there (any folder depth, or leave the .zip files as downloaded)."
        )
    return dict(sorted(found.items()))


def has_raw_data(raw_dir: str | Path) -> bool:
    """True when ``raw_dir`` holds at least the required Kaggle files."""
    try:
        find_raw_files(raw_dir)
    except (FileNotFoundError, ValueError):
        return False
    return True
