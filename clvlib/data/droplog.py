"""A drop log: how many rows each cleaning step removed, and why."""

from __future__ import annotations

import pandas as pd

__all__ = ["DropLog"]


class DropLog:
    """Record of cleaning steps, rendered as a table in the reports.

    Each :meth:`step` call records the row count before and after one step and
    a plain-words reason, so a reader can account for every removed row.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows: list[dict] = []

    def start(self, n: int, what: str) -> None:
        """Record the starting row count."""
        self.rows.append({"table": self.table, "step": what, "rows_before": n, "rows_after": n, "removed": 0, "reason": "as read"})

    def step(self, what: str, before: int, after: int, reason: str) -> None:
        """Record one step that took the table from ``before`` to ``after`` rows."""
        self.rows.append(
            {"table": self.table, "step": what, "rows_before": int(before), "rows_after": int(after),
             "removed": int(before) - int(after), "reason": reason}
        )

    def note(self, text: str) -> None:
        """Record a step that removed no row of this table but changed what it holds (said in ``reason``)."""
        n = self.rows[-1]["rows_after"] if self.rows else 0
        self.rows.append({"table": self.table, "step": "note", "rows_before": n, "rows_after": n, "removed": 0,
                          "reason": text})

    def to_frame(self) -> pd.DataFrame:
        """Return the log as a DataFrame (one row per step)."""
        return pd.DataFrame(self.rows, columns=["table", "step", "rows_before", "rows_after", "removed", "reason"])
