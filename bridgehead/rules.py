"""The rules file: grading, follow-up cadence, supervision and response targets, with a version.

Users edit one YAML file (`BRIDGEHEAD_RULES_FILE`); it is validated here so a typo fails at
once with the key that is wrong, and its `version` is recorded with every decision it makes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridgehead.settings import get_settings
from models.common import Category, Colour
from models.jurisdiction import OfficerRole


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Burst(_Strict):
    """N signals on one risk whose times fit in D days (latest minus earliest ≤ D)."""

    count: int = Field(ge=1)
    days: int = Field(ge=0)


class RedRules(_Strict):
    keywords: dict[str, list[str]]
    categories: list[Category]
    violence_repeat_days: int
    violence_repeat_apart_hours: float = Field(default=2, ge=0)
    signals: Burst


class OrangeRules(_Strict):
    categories: list[Category]
    signals: Burst
    channels: Burst
    labor_debt_people: int


class YellowRules(_Strict):
    categories: list[Category]


class BlueRules(_Strict):
    categories: list[Category]
    keywords: dict[str, list[str]]
    analysis_score_below: float


class Grading(_Strict):
    red: RedRules
    orange: OrangeRules
    yellow: YellowRules
    blue: BlueRules
    red_only_categories: list[Category]
    place_window_days: int = Field(default=30, ge=1)  # a place is graded on its signals of these days
    place_red_days: int = Field(default=7, ge=1)  # and is red for a person-level signal of these days


class Cadence(_Strict):
    every_days: int = Field(ge=1)
    first_within_hours: int = Field(ge=1)


class FollowUpRules(_Strict):
    red: Cadence
    orange: Cadence
    yellow: Cadence
    blue: Cadence
    calm_to_lower: int = 2

    def for_colour(self, colour: Colour | str) -> Cadence:
        return getattr(self, str(colour))


class EndRules(_Strict):
    """How a risk ends (化解): settled and confirmed by a return visit, referred, dormant, re-checked."""

    return_visit_days: dict[Colour, int]
    referral_check_days: int = Field(ge=1)
    dormant_days: int = Field(ge=1)
    dormant_levels: list[Colour]
    recheck_after_days: int = Field(ge=1)
    visit_window_days: int = Field(ge=0)

    @field_validator("return_visit_days")
    @classmethod
    def _every_colour(cls, value: dict[Colour, int]) -> dict[Colour, int]:
        missing = [c.value for c in Colour if c not in value]
        if missing:
            raise ValueError(f"a return visit delay is needed for every colour; missing: {missing}")
        if any(days < 1 for days in value.values()):
            raise ValueError("return visit delays are whole days, at least 1")
        return value


class CapacityRules(_Strict):
    """Visits one officer can make in a day, by role; a role not listed is not capped."""

    daily_visits: dict[OfficerRole, int]

    @field_validator("daily_visits")
    @classmethod
    def _positive(cls, value: dict[OfficerRole, int]) -> dict[OfficerRole, int]:
        if any(n < 1 for n in value.values()):
            raise ValueError("a daily capacity is at least 1 visit")
        return value


class SupervisionRules(_Strict):
    officer_after_days_late: int
    chief_after_days_late: int
    accountability_after_days_late: int
    accountability_after_notices: int
    notices_window_days: int


class ArrivalTargets(_Strict):
    """On scene within: the "3-5" of 1-3-5, by the kind of place the incident is in."""

    smart_security: int = Field(gt=0)
    community: int = Field(gt=0)
    village: int = Field(gt=0)


class QuickResponseRules(_Strict):
    urgent_priority: int
    urgent_categories: list[Category]
    dispatch_within_s: int = Field(gt=0)
    arrive_within_s: ArrivalTargets
    units: dict[str, int] = Field(description="units sent per incident, by category; 'default' for the rest")
    every_free_unit_for: list[Category] = Field(description="categories that take every free unit (a search)")
    red_risk_fresh_within_min: int = Field(
        gt=0, description="a risk turning red opens an incident only if its latest signal is this recent"
    )
    live_call_within_min: int = Field(
        default=30,
        gt=0,
        description="an urgent call this recent is dispatched by intake itself; an older one (a late "
        "export, a replay) by its quick-response run",
    )
    dispute_remains_after: list[str] = Field(
        description="outcomes after which a dispute-category incident becomes a signal on a risk"
    )

    @field_validator("units")
    @classmethod
    def _has_default(cls, units: dict[str, int]) -> dict[str, int]:
        if "default" not in units:
            raise ValueError("units needs a 'default' entry for categories not named")
        if any(n < 1 for n in units.values()):
            raise ValueError("units per incident must be at least 1")
        return units

    def units_for(self, category: str) -> int | None:
        """How many units an incident gets; None means every free unit of the station."""
        if category in self.every_free_unit_for:
            return None
        return self.units.get(category, self.units["default"])


class Linking(_Strict):
    window_days: int = 365


class OfficerPoints(_Strict):
    """Points per record, each earned once: what the officer's own records show for the month."""

    response_on_target: int = Field(description="an incident the officer closed, both 1-3-5 targets met")
    risk_resolved: int = Field(description="a risk of the officer's resolved by the evidence rule")
    follow_up_on_time: int = Field(description="a follow-up visited on or before its due date")
    tip_verified: int = Field(description="a tip the officer verified as useful")
    accountability: int = Field(le=0, description="each accountability entry (a loss)")


class TipOutcome(StrEnum):
    risk_found = "risk_found"
    case_solved = "case_solved"
    unfounded = "unfounded"


class RewardRules(_Strict):
    points: OfficerPoints
    tip_reward_cny: dict[TipOutcome, int] = Field(description="the tipster's reward by verified outcome")
    useful_outcomes: list[TipOutcome] = Field(description="outcomes that make a tip useful (and rewarded)")

    @field_validator("tip_reward_cny")
    @classmethod
    def _every_outcome(cls, tiers: dict[TipOutcome, int]) -> dict[TipOutcome, int]:
        missing = set(TipOutcome) - set(tiers)
        if missing:
            raise ValueError(f"tip_reward_cny needs every outcome; missing {sorted(missing)}")
        if any(v < 0 for v in tiers.values()):
            raise ValueError("a reward cannot be negative")
        return tiers


class Rules(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    version: str
    linking: Linking
    grading: Grading
    follow_up: FollowUpRules
    ends: EndRules
    capacity: CapacityRules
    supervision: SupervisionRules
    quick_response: QuickResponseRules
    rewards: RewardRules

    @cached_property
    def keyword_patterns(self) -> dict[str, re.Pattern[str]]:
        """One case-insensitive pattern per reason code, e.g. 'red.weapon', 'blue.hazard'."""
        groups = {f"red.{k}": v for k, v in self.grading.red.keywords.items()}
        groups |= {f"blue.{k}": v for k, v in self.grading.blue.keywords.items()}
        return {code: _any_of(words) for code, words in groups.items() if words}


def _any_of(words: list[str]) -> re.Pattern[str]:
    """Chinese terms match anywhere; English words only as whole words ('gun', not 'begun')."""
    parts = [rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts), re.IGNORECASE)


def load_rules(path: Path) -> Rules:
    """Read and validate a rules file; errors name the key that is wrong."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        return Rules.model_validate(data)
    except Exception as exc:
        raise ValueError(f"{path}: not a valid rules file: {exc}") from exc


@lru_cache
def _cached(path: str, mtime: float) -> Rules:
    return load_rules(Path(path))


def get_rules() -> Rules:
    """The configured rules, re-read when the file changes."""
    path = get_settings().rules_file
    return _cached(str(path), path.stat().st_mtime)
