"""How addresses written differently by different desks still meet (地址归一).

An address is matched on its normalised form: NFKC (full-width digits and letters), case-folded, the
common street words in one spelling ("BOULEVARD", "BLV" and "BLVD" are one; "NORTH" and "N"), without
spaces and punctuation. A crossing ("A & B", "A / B", "A/B", "A与B交叉口") is kept as one: its two streets
normalised each and sorted, joined by "&", so "10TH ST / K ST" and "K STREET & 10TH STREET" are the same
corner while "1/2" in "123 1/2 MAIN ST" stays a house number.

The normalised form is stored (signals, cases, places, risks, their link keys): a change here needs a
migration that recomputes them (`0012_addresses_normalised_anew`).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_NOISE = re.compile(r"[\s,，。.、;；:：#＃\-—_/\\()（）\[\]【】\"'“”‘’&＆]+")
# "A & B" (spaces optional), "A / B", "24TH ST/VALENCIA ST" (unspaced after a letter: "1/2" is a number),
# "A与B交叉口".
_EN_CROSSING = re.compile(r"\s*[&＆]\s*|\s+/\s+|(?<=[^\W\d_])/(?=[^\W_])")
_ZH_CROSSING = re.compile(r"^(?P<a>.+?)与(?P<b>.+?)(?:交叉路口|交叉口|十字路口|路口|交汇处)$")
#: What a hotspot test calls a crossing (the brief: "A & B", "A / B", "…与…交叉口").
CROSSING = re.compile(r"\S\s*[&＆]\s*\S|\S\s+/\s+\S|[^\W\d_]/[^\W_]|与.+交叉|交叉口|十字路口")

# The USPS Publication 28 abbreviations (Appendix C1 street suffixes, the directionals) of the common
# street words: every spelling on the left is written as the word on the right.
_WORDS = {
    "blvd": ("boulevard", "boul", "boulv", "blv"),
    "st": ("street", "str", "strt"),
    "ave": ("avenue", "av", "aven", "avenu", "avn", "avnue"),
    "rd": ("road",),
    "dr": ("drive", "drv", "driv"),
    "ln": ("lane",),
    "ct": ("court", "crt"),
    "cir": ("circle", "circ", "circl", "crcl", "crcle"),
    "pl": ("place",),
    "pkwy": ("parkway", "parkwy", "pkway", "pky"),
    "hwy": ("highway", "highwy", "hiway", "hiwy", "hway"),
    "fwy": ("freeway", "frway", "frwy"),
    "expy": ("expressway", "expw"),
    "ter": ("terrace", "terr"),
    "trl": ("trail", "trails", "tr", "trls"),
    "aly": ("alley", "allee", "ally"),
    "sq": ("square", "sqr", "sqre", "squ"),
    "hts": ("heights",),
    "n": ("north",),
    "s": ("south",),
    "e": ("east",),
    "w": ("west",),
    "ne": ("northeast",),
    "nw": ("northwest",),
    "se": ("southeast",),
    "sw": ("southwest",),
}
_SPELLING = {variant: word for word, variants in _WORDS.items() for variant in variants}
_VARIANT = re.compile(r"\b(?:" + "|".join(sorted(_SPELLING, key=len, reverse=True)) + r")\b")


def _one_spelling(match: re.Match[str]) -> str:
    return _SPELLING[match.group(0)]


def _folded(address: str) -> str:
    """NFKC, case-folded, the street words in one spelling; spaces and punctuation still there."""
    return _VARIANT.sub(_one_spelling, unicodedata.normalize("NFKC", address).casefold().replace(".", " "))


def _crossing(folded: str) -> str | None:
    """The crossing's key ("a&b", its streets sorted), or None when `folded` is not a crossing."""
    parts = _EN_CROSSING.split(folded)
    if len(parts) < 2 and (zh := _ZH_CROSSING.match(_NOISE.sub("", folded))):
        parts = [zh["a"], zh["b"]]
    streets = sorted({s for s in (_NOISE.sub("", p) for p in parts) if s})
    return "&".join(streets) if len(streets) >= 2 else None


def normalise_address(address: str) -> str:
    folded = _folded(address)
    return _crossing(folded) or _NOISE.sub("", folded)


def normalise_addresses(addresses: pd.Series) -> pd.Series:
    """`normalise_address` of a column: each distinct address once, vectorised but for crossings."""
    codes, distinct = pd.factorize(addresses.fillna("").astype(str))
    folded = (
        pd.Series(distinct, dtype=object)
        .str.normalize("NFKC")
        .str.casefold()
        .str.replace(".", " ", regex=False)
        .str.replace(_VARIANT, _one_spelling, regex=True)
    )
    out = folded.str.replace(_NOISE, "", regex=True)
    maybe = folded.str.contains(_EN_CROSSING) | out.str.contains("与", regex=False)
    if maybe.any():
        keys = folded[maybe].map(_crossing)
        out = out.mask(maybe & keys.notna().reindex(out.index, fill_value=False), keys)
    return pd.Series(
        out.to_numpy(dtype=object)[codes] if len(codes) else [], index=addresses.index, dtype=object
    )


def is_crossing(address: str | None) -> bool:
    return bool(address) and bool(CROSSING.search(address))  # type: ignore[arg-type]
