"""Volumes and mixes of the synthetic city, kept in one place so they can be tuned and cited.

Volumes are per year at scale 1, as (previous year, current year). The case figures are the
seed report's: criminal cases filed down 29.8% and telecom-fraud cases solved up 44.66%.
"""

from __future__ import annotations

GENERATOR_VERSION = "1.0.0"

CALLS = (260_000, 240_000)
VISITS = (48_000, 52_000)
ANALYSIS = (4_600, 5_200)
TIPS = (2_800, 3_200)

CASES_PREVIOUS = 10_000
CASES_RATIO = 0.702  # current = round(previous * 0.702): -29.8%
#: telecom-fraud cases solved inside each year: (894 - 618) / 618 = +44.66%
TELECOM_SOLVED = (618, 894)
TELECOM_SHARE = (0.22, 0.20)  # share of all cases filed that are telecom fraud
LINKED_HOMICIDES = 3  # per year: homicides after an earlier dispute at the address or parties
OTHER_HOMICIDES = 2  # per year
CONVERSION_SHARE = 0.035  # share of dispute threads that end in a criminal case

#: recurring disputes (threads) over the two years, and their categories
THREADS = 12_000
THREAD_MIX = {"family_neighbor": 0.40, "labor_debt": 0.18, "marriage_romance": 0.20, "land_property": 0.22}

CALL_MIX = {
    "labor_debt": 0.04,
    "family_neighbor": 0.09,
    "marriage_romance": 0.035,
    "land_property": 0.03,
    "public_order": 0.20,
    "violence": 0.03,
    "missing_person": 0.015,
    "fraud": 0.07,
    "traffic": 0.16,
    "other": 0.33,
}
VISIT_MIX = {
    "labor_debt": 0.06,
    "family_neighbor": 0.15,
    "marriage_romance": 0.05,
    "land_property": 0.08,
    "public_order": 0.09,
    "violence": 0.02,
    "missing_person": 0.02,
    "fraud": 0.08,
    "traffic": 0.03,
    "other": 0.42,
}
ANALYSIS_MIX = {
    "labor_debt": 0.06,
    "family_neighbor": 0.08,
    "marriage_romance": 0.04,
    "land_property": 0.04,
    "public_order": 0.18,
    "violence": 0.04,
    "missing_person": 0.02,
    "fraud": 0.30,
    "traffic": 0.06,
    "other": 0.18,
}
TIP_MIX = {
    "labor_debt": 0.10,
    "family_neighbor": 0.12,
    "marriage_romance": 0.05,
    "land_property": 0.08,
    "public_order": 0.25,
    "violence": 0.05,
    "missing_person": 0.01,
    "fraud": 0.15,
    "traffic": 0.02,
    "other": 0.17,
}

#: offences of the criminal cases not generated from a dispute (telecom fraud is set apart)
OFFENCE_MIX = {
    "theft": 0.47,
    "assault": 0.09,
    "other_crime": 0.20,
    "traffic": 0.06,
    "fraud": 0.04,
    "public_order": 0.07,
    "violence": 0.03,
    "labor_debt": 0.01,
    "land_property": 0.01,
    "marriage_romance": 0.01,
    "family_neighbor": 0.01,
}
#: share of cases solved (telecom fraud is exact, see TELECOM_SOLVED)
SOLVED_SHARE = {
    "theft": 0.35,
    "assault": 0.85,
    "homicide": 1.0,
    "violence": 0.8,
    "public_order": 0.75,
    "fraud": 0.3,
}
SOLVED_DEFAULT = 0.6


def scaled(n: int, scale: float) -> int:
    """A scale-1 volume at ``scale`` (rounded half to even, like Python's ``round``)."""
    return round(n * scale)
