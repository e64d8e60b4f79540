"""Text normalisation for matching: addresses written differently by different desks still meet."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_NOISE = re.compile(r"[\s,，。.、;；:：#＃\-—_/\\()（）\[\]【】\"'“”‘’]+")


def normalise_address(address: str) -> str:
    """NFKC (full-width digits and letters), case-folded, without spaces and punctuation."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", address).casefold())


def normalise_addresses(addresses: pd.Series) -> pd.Series:
    return (
        addresses.fillna("")
        .astype(str)
        .str.normalize("NFKC")
        .str.casefold()
        .str.replace(_NOISE, "", regex=True)
    )
