"""The project root, and paths relative to it."""

from __future__ import annotations

from pathlib import Path

__all__ = ["project_root", "resolve"]


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
