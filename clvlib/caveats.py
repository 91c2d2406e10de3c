"""The caveats the reports repeat, worded once (bottom layer: any module may use them)."""

from __future__ import annotations

__all__ = ["SYNTHETIC_LINK_NOTE"]

#: One sentence every report that uses the clickstream link repeats on the Kaggle data.
SYNTHETIC_LINK_NOTE = (
    "The Kaggle Olist and clickstream datasets share no key, no period and no signal: the clickstream is "
    "generated noise dated 2024, Olist is 2016-2018. Any link between a customer and a clickstream user "
    "is synthetic, and the rank link creates a correlation by construction."
)
