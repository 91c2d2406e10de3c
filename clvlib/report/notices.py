"""Library warnings turned into sentences a reader can act on, instead of a raw ``UserWarning`` box.

A report wraps a library call in :func:`captured_warnings`; the warnings it raises are recorded, not
printed, and :meth:`WarningLog.callout` says in plain words what happened and whether the results
shown are affected (checked on the outputs the report passes in, not assumed).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WarningLog", "captured_warnings", "explain_warning", "non_finite_rows"]

_NON_FINITE = re.compile(r"(\d+) customer\(s\) got non-finite expected purchases or P\(alive\)")
_KNOWN: tuple[tuple[re.Pattern[str], str], ...] = (
    (_NON_FINITE, "{0} customer(s) got an undefined expected number of purchases or P(alive) from a buy-till-you-die "
                  "model: too few people bought twice for its dropout parameters to be estimated."),
    (re.compile(r"MAP optimisation did not converge"),
     "The optimiser fitting a model stopped before it converged, so its parameters may not be the best fit: "
     "compare the fitted and actual repeat purchases in the figures below."),
    (re.compile(r"Gamma-Gamma q = .* <= 1"),
     "The spend model's mean is undefined (q <= 1): the expected spend of one-time buyers is not meaningful."),
    (re.compile(r"resamples had no buyer or no non-buyer"),
     "Some bootstrap resamples had no buyer and were left out: the intervals rest on fewer resamples than asked "
     "for and are rougher."),
    (re.compile(r"At the snapshot of (\S+) the BG/NBD feature is left missing: (.*?)\.?$", re.DOTALL),
     "At the snapshot of {0} the hybrid model went without its BG/NBD feature: {1}."),
    (re.compile(r"At the snapshot of (\S+) the BG/NBD fit behind the hybrid model's BG/NBD feature stopped before"),
     "At the snapshot of {0} the optimiser fitting the BG/NBD model behind the hybrid's BG/NBD feature stopped "
     "before it could confirm the best fit; the feature is used as it came out."),
)


def explain_warning(message: str) -> str:
    """One plain sentence for a library warning message (the message itself when it is not a known one).

    Examples
    --------
    >>> explain_warning("3 customer(s) got non-finite expected purchases or P(alive); check params_.")[:45]
    '3 customer(s) got an undefined expected numbe'
    """
    for pattern, sentence in _KNOWN:
        m = pattern.search(message)
        if m:
            return sentence.format(*m.groups())
    return f"“{message.strip().rstrip('.')}”."  # the callout's heading already says "the library warned"


def non_finite_rows(frame: pd.DataFrame) -> int:
    """Rows of ``frame`` with a NaN or infinite value in any numeric column."""
    num = frame.select_dtypes("number")
    if num.empty:
        return 0
    return int((~np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))).any(axis=1).sum())


@dataclass
class WarningLog:
    """The warnings raised during one step of a report, in order, without repeats."""

    step: str
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def text(self, outputs: Mapping[str, pd.DataFrame] | None = None) -> str:
        """The HTML sentences of the callout: what was warned and whether ``outputs`` are affected.

        Parameters
        ----------
        outputs
            Name -> table the step produced (e.g. ``{"BG/NBD predictions": frame}``); each is
            checked for rows with a missing or infinite number.

        Returns
        -------
        str
            Empty when nothing was warned.
        """
        if not self.messages:
            return ""
        import html

        lines = [html.escape(explain_warning(m)) for m in self.messages]
        verdict = ""
        if outputs:
            bad = {name: non_finite_rows(f) for name, f in outputs.items()}
            if not any(bad.values()):
                verdict = (" Every number in the results below is finite ("
                           + ", ".join(f"{html.escape(n)}: {len(outputs[n]):,} rows" for n in outputs) + ")")
                # only a warning about undefined values is settled by finding none; a fit that stopped early is not
                verdict += (": the affected values were replaced or never reached the results, so they are not "
                            "affected by it." if all(_NON_FINITE.search(m) for m in self.messages) else ".")
            else:
                verdict = (" The results below <b>are affected</b>: "
                           + ", ".join(f"{v:,} of {len(outputs[n]):,} rows of {html.escape(n)}" for n, v in bad.items() if v)
                           + " have a missing or infinite value.")
        else:
            verdict = " This report did not check whether its results are affected."
        return (f"<b>While {html.escape(self.step)}, the library warned.</b> " + " ".join(lines) + verdict)

    def callout(self, outputs: Mapping[str, pd.DataFrame] | None = None) -> Any:
        """An ``IPython.display.HTML`` box with :meth:`text`, or an empty one when nothing was warned."""
        from IPython.display import HTML

        from clvlib.report.display import callout

        text = self.text(outputs)
        return callout(text, kind="warning") if text else HTML("")


#: Warnings about how a library was installed: they say nothing about the results, so a report does not
#: show them as a warning on the numbers. PyTensor (under pymc) says it when no BLAS library is found (a
#: pip install on a machine without one); its models then compile and run without it, more slowly.
INSTALL_NOTICES = ("PyTensor could not link to a BLAS installation",)


@contextmanager
def captured_warnings(step: str) -> Iterator[WarningLog]:
    """Record the warnings raised inside the block instead of printing them.

    Only warnings the filters in force would have shown are recorded (a library that silences
    its own numerical warnings keeps them silent).

    Parameters
    ----------
    step
        What the block does, for the sentence ("fitting the buy-till-you-die models").

    Yields
    ------
    WarningLog
        Filled when the block ends; show ``log.callout(outputs)`` after it.
    """
    log = WarningLog(step)
    with warnings.catch_warnings(record=True) as caught:  # the filters in force stay: what they hide stays hidden
        yield log
    for w in caught:
        if issubclass(w.category, DeprecationWarning | PendingDeprecationWarning | FutureWarning):
            continue  # about library versions, not about these results
        if any(str(w.message).startswith(p) for p in INSTALL_NOTICES):
            continue  # about the installation (speed), not about these results
        log.add(str(w.message))
