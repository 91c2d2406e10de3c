"""Finding the raw Kaggle files in a folder (any depth, or inside the zips as downloaded)."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

from clvlib.io import file_digest
from clvlib.paths import project_root
from clvlib.schemas import DEMO_MARKER, EXPECTED_FILES, REQUIRED_TABLES

__all__ = ["find_raw_files", "has_raw_data", "is_demo_dir"]


def is_demo_dir(raw_dir: str | Path) -> bool:
    """True when ``raw_dir`` holds generated demo data (it carries :data:`DEMO_MARKER`)."""
    return (Path(raw_dir) / DEMO_MARKER).is_file()


def _extract_zips(zips: list[Path], extract_dir: Path, wanted: set[str]) -> list[Path]:
    """Extract the wanted CSV members of ``zips`` into ``extract_dir/<content digest>/``; return the CSVs there.

    A zip whose content changed gets a new folder, so a stale copy is never served.
    """
    out: list[Path] = []
    for zpath in zips:
        target_dir = extract_dir / file_digest(zpath)
        try:
            with zipfile.ZipFile(zpath) as zf:
                for member in zf.namelist():
                    name = Path(member).name
                    if name not in wanted:
                        continue
                    target = target_dir / name
                    if not target.is_file():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        tmp = target.with_suffix(f".part{os.getpid()}")
                        with zf.open(member) as src, open(tmp, "wb") as dst:
                            while chunk := src.read(1 << 20):
                                dst.write(chunk)
                        tmp.replace(target)
                    out.append(target)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"{zpath} is not a readable zip file ({exc}); download it again.") from exc
    return out


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
    candidates: dict[str, list[Path]] = {}
    for path in sorted(raw.rglob("*.csv"), key=lambda p: (len(p.parts), str(p))):
        key = by_name.get(path.name)
        if key:
            candidates.setdefault(key, []).append(path)
            found.setdefault(key, path)
    twice = {k: v for k, v in candidates.items() if len(v) > 1}
    if twice:
        lines = "; ".join(f"{EXPECTED_FILES[k]}: " + ", ".join(str(p) for p in v) for k, v in sorted(twice.items()))
        raise ValueError(f"Ambiguous raw data under {raw}: more than one copy of {lines}. Keep one copy of each file "
                         "(move the others out of the folder), or point --raw-dir at the folder that holds the right ones.")
    missing = set(EXPECTED_FILES) - set(found)
    zips = sorted(raw.rglob("*.zip"))
    if missing and zips:
        ext = Path(extract_dir) if extract_dir else project_root() / "data" / "interim" / "unzipped"
        # only what this folder's zips hold, never files extracted from another raw folder earlier
        for path in _extract_zips(zips, ext, {EXPECTED_FILES[k] for k in missing}):
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
