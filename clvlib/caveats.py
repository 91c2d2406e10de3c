"""The caveats the reports repeat, worded once (bottom layer: any module may use them).

Each sentence is true of any dataset it is shown on: the synthetic-link note describes the link
methods, not a dataset; what is particular to a dataset (no shared period, a real key) is said by
:func:`link_note` from facts the stage has measured.
"""

from __future__ import annotations

__all__ = ["SYNTHETIC_LINK_NOTE", "KEYED_LINK_NOTE", "link_note"]

#: What a synthetic link is, for any data: shown wherever a rank or random link is used.
SYNTHETIC_LINK_NOTE = (
    "A rank or random link pairs customers with clickstream users without any shared identifier: the rank link "
    "by activity rank (which creates a correlation between the two sides by construction), the random link at "
    "random (a placebo)."
)

#: On data with a real customer-user key (the demo data has one).
KEYED_LINK_NOTE = (
    "This data has a real key between customers and clickstream users; the rank and random links ignore it and "
    "are there as comparisons: what the rank link shows beyond the random one is manufactured."
)


def link_note(methods: list[str] | tuple[str, ...], periods_overlap: bool | None = None) -> str:
    """The caveat for the links ``methods``, in plain words, fitted to what the data has.

    Parameters
    ----------
    methods
        Link methods in use (``"rank"``, ``"random"``, ``"key"``); ``"key"`` means the data has a
        real key.
    periods_overlap
        Whether the clickstream's period overlaps the orders' (``False`` adds that the two
        sides do not even cover the same time); ``None`` when not known.

    Returns
    -------
    str
        An empty string when only the real key is used, else one or two sentences.

    Examples
    --------
    >>> link_note(["key"])
    ''
    """
    synthetic = [m for m in methods if m != "key"]
    if not synthetic:
        return ""
    text = SYNTHETIC_LINK_NOTE
    if "key" in methods:
        text += " " + KEYED_LINK_NOTE
    else:
        text += " This data has no key between customers and clickstream users, so no link here is real."
    if periods_overlap is False:
        text += " The clickstream does not even cover the same period as the orders."
    return text
