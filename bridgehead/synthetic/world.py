"""The generated city's people, day by day: what the simulator (`bridgehead simulate`) plays against
the product. It knows nothing of Bridgehead's rules; it only reads the lists officers are handed.

The world is the generated dataset (`build`) from the simulation's first day on, with two changes:
- **Disputes respond to attention.** Each recurring dispute (a thread) has its natural course, the
  generated signals. A visit can settle it (by the per-category rates of `world.yaml`): its later
  signals then mostly do not happen (`relapse`), nor the criminal case it would have grown into
  (`prevention`). A dispute nobody visits escalates: every day of neglect raises its daily chance of
  another call, of that call being violent, and of a criminal case at its address.
- **Officers work their lists.** The visits the generator drew at random for the disputes are gone;
  each officer makes the visits on the day's list (the product's plan) — all of them, except the
  few negligent officers (named in the manifest, never told to the product), who make about half.
  The visits the world sends anyway (patrol finds, the stories) still come.

Criminal cases keep the generated totals exactly (the seed's headline): a case a settled dispute does
not grow into happens elsewhere, and a neglected dispute's case is one of the day's cases moved to its
address. So follow-up changes where crime grows out of disputes (民转刑), not how much is filed.

Every draw comes from a stream keyed by the seed and the day, and the escalation draws are the same
with or without follow-up, so a run and its counterfactual differ only by what the officers did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from . import Dataset
from .texts import CALL, CAT, CATEGORIES, add_danger, render
from .timeline import OFFSET
from .writer import COLUMNS

PARAMS_FILE = Path(__file__).with_name("world.yaml")
CHANNELS = {  # channel -> (file, time column, id column)
    "case": ("cases.csv", "filed_at", "case_id"),
    "call": ("calls.csv", "received_at", "call_id"),
    "visit": ("visits.csv", "visited_at", "visit_id"),
    "analysis": ("analysis.csv", "produced_at", "signal_id"),
    "tip": ("tips.csv", "received_at", "tip_id"),
}
FOLLOW_UP_CHECKS = ("return_visit", "check", "recheck")  # visits that confirm an end, not cadence ones
DISPUTES = ("labor_debt", "family_neighbor", "marriage_romance", "land_property")
STORIES = {"feud_call": "neighbour_feud", "feud_visit": "neighbour_feud", "feud_calm": "neighbour_feud"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Officers(_Strict):
    negligent_share: float = Field(ge=0, le=1)
    negligent_diligence: float = Field(ge=0, le=1)
    first_visit_hour: int = Field(ge=0, le=16)


class Outcomes(_Strict):
    settled: float = Field(ge=0, le=1)
    referred: float = Field(ge=0, le=1)
    escalated: float = Field(ge=0, le=1)
    unreachable: float = Field(ge=0, le=1)


class Quiet(_Strict):
    calm: float = Field(ge=0, le=1)
    settled_dispute: float = Field(ge=0, le=1)
    settled_other: float = Field(ge=0, le=1)


class Referral(_Strict):
    settles: float = Field(ge=0, le=1)
    after_days: int = Field(ge=0)


class Escalation(_Strict):
    tail_days: int = Field(ge=0)
    grace_days: int = Field(ge=0)
    call_per_day: float = Field(ge=0)
    call_max: float = Field(ge=0, le=1)
    violence_share: float = Field(ge=0, le=1)
    violence_per_day: float = Field(ge=0)
    violence_max: float = Field(ge=0, le=1)
    weapon_share: float = Field(ge=0, le=1)
    case_per_day: float = Field(ge=0)
    case_max: float = Field(ge=0, le=1)


class WorldParams(_Strict):
    """`world.yaml`: the simulated people's behaviour (never the product's rules)."""

    version: str
    officers: Officers
    outcomes: dict[str, Outcomes]
    ongoing_calm: float = Field(ge=0, le=1)
    quiet: Quiet
    referral: Referral
    relapse: float = Field(ge=0, le=1)
    prevention: float = Field(ge=0, le=1)
    escalation: Escalation

    def rates(self, category: str) -> Outcomes:
        return self.outcomes.get(category, self.outcomes["default"])


def load_params(path: Path | None = None) -> WorldParams:
    """The world's parameters (default: the shipped `world.yaml`); a misspelt key fails with its name."""
    with (path or PARAMS_FILE).open(encoding="utf-8") as fh:
        return WorldParams.model_validate(yaml.safe_load(fh))


def _days(stamps: pd.Series, first: date) -> np.ndarray:
    """Day index (from `first`) of each local ISO time; blank is -1."""
    text = stamps.fillna("").astype(str).str.slice(0, 10)
    out = np.full(len(text), -1, dtype=np.int64)
    ok = (text != "").to_numpy()
    out[ok] = (text[ok].to_numpy(dtype="datetime64[D]") - np.datetime64(first, "D")).astype(np.int64)
    return out


@dataclass
class Tally:
    """What the world did, for the manifest: the story behind the product's figures."""

    extra_calls: int = 0
    extra_violent_calls: int = 0
    suppressed_signals: int = 0
    relapses: int = 0
    cases_prevented: int = 0
    cases_from_neglect: int = 0
    settled_by_visit: int = 0
    visits_made: int = 0
    visits_skipped: int = 0
    by_officer_skipped: dict[str, int] = field(default_factory=dict)


class World:
    """The city from day `start` on; `day_events(d)` and `officer_visits(d, lists)` advance it."""

    def __init__(self, data: Dataset, params: WorldParams, start: date, follow_up: bool = True) -> None:
        self.data, self.p, self.start, self.follow_up = data, params, start, follow_up
        ctx = data.ctx
        self.seed, self.origin = ctx.seed, ctx.windows.start
        n = ctx.threads.comm.size
        self.first_day = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(self.first_day, ctx.signals.thread, ctx.signals.day)
        self.last_day = ctx.signals.last_day(n)
        self.settled_on = np.full(n, -1, dtype=np.int64)  # the day a visit settled it (or will, if referred)
        self.attended = np.full(n, -1, dtype=np.int64)  # the last day an officer visited it
        self.tally = Tally()
        self._rows: dict[str, dict[int, np.ndarray]] = {}
        self._day: dict[str, np.ndarray] = {}
        self._thread_of: dict[tuple[str, str], int] = {}
        self._story_of: dict[tuple[str, str], str] = {}
        first = self._index(start)
        for channel, (name, when, key) in CHANNELS.items():
            frame = data.frames[name]
            days = _days(frame[when], self.origin)
            self._day[channel] = days
            order = np.flatnonzero(days >= first)
            cut = np.unique(days[order], return_index=True)
            parts = np.split(order, cut[1][1:]) if order.size else []  # a channel silent since go-live
            self._rows[channel] = dict(zip(cut[0].tolist(), parts, strict=True))
            threads = data.threads[name]
            for sid, th in zip(frame[key].to_numpy()[threads >= 0], threads[threads >= 0], strict=True):
                self._thread_of[(channel, str(sid))] = int(th)
            for sid, tag in zip(frame[key], data.tags.get(name, np.full(len(frame), "")), strict=True):
                if tag:
                    self._story_of[(channel, str(sid))] = STORIES.get(str(tag), str(tag))
        rng = np.random.default_rng([self.seed, 103])
        self._relapse_u = {c: rng.random(len(data.frames[CHANNELS[c][0]])) for c in CHANNELS}
        cases = data.frames["cases.csv"]
        spare = np.flatnonzero(
            (data.threads["cases.csv"] < 0) & (cases["offence"] != "telecom_fraud").to_numpy()
        )
        self._donor = spare[rng.integers(0, spare.size, len(cases))] if spare.size else np.zeros(0, np.int64)
        self._moved: set[int] = set()
        self._emitted_calls: set[str] = set()
        self._owed: list[int] = []  # neglected disputes whose criminal case waits for a day with one
        story = data.manifest["stories"]["neighbour_feud"]
        self.feud_calm_from = self._index(date.fromisoformat(min(story["calm_visit_dates"])))
        self.negligent = self._negligent()

    # --- who is who -----------------------------------------------------------------------------

    def _index(self, day: date) -> int:
        return (day - self.origin).days

    def _negligent(self) -> list[str]:
        """The officers who do only part of their list: drawn once per seed, never told to the product."""
        officers = self.data.frames["officers.csv"]
        pool = officers.loc[officers["role"].isin(["community", "assistant"]), "officer_code"].to_numpy()
        k = round(len(pool) * self.p.officers.negligent_share)
        rng = np.random.default_rng([self.seed, 100])
        return sorted(str(c) for c in rng.choice(pool, k, replace=False))

    def behind(self, signals: pd.DataFrame) -> pd.DataFrame:
        """Per risk: the dispute (thread) and story behind its signals, by the ids the world wrote.

        `signals` columns: risk_id, channel, source_id. Returns risk_id, thread (-1), story ('')."""
        keys = list(zip(signals["channel"], signals["source_id"].astype(str), strict=True))
        found = signals.assign(
            thread=[self._thread_of.get(k, -1) for k in keys], story=[self._story_of.get(k, "") for k in keys]
        )
        thread = found[found["thread"] >= 0].groupby("risk_id")["thread"].agg(lambda t: t.mode().iloc[0])
        story = found[found["story"] != ""].groupby("risk_id")["story"].first()
        out = pd.DataFrame({"risk_id": sorted(set(signals["risk_id"]))})
        out["thread"] = out["risk_id"].map(thread).fillna(-1).astype(np.int64)
        out["story"] = out["risk_id"].map(story).astype(object).where(out["risk_id"].isin(story.index), "")
        return out

    def _live(self, threads: np.ndarray, d: int) -> np.ndarray:
        """Disputes still going on day `d`: begun, not past their course, not settled."""
        tail = self.p.escalation.tail_days
        settled = (self.settled_on >= 0) & (self.settled_on <= d)
        return (self.first_day[threads] <= d) & (d <= self.last_day[threads] + tail) & ~settled[threads]

    # --- the world's own events -----------------------------------------------------------------

    def day_events(self, day: date) -> dict[str, pd.DataFrame]:
        """The day's calls, cases, analysis hits, tips and the visits the world sends anyway."""
        d = self._index(day)
        out = {c: self._generated(c, d) for c in CHANNELS}
        extra_calls, neglect_cases = self._escalation(day, d)
        out["call"] = pd.concat([out["call"], extra_calls], ignore_index=True)
        out["case"] = self._relocate(out["case"], d, neglect_cases)
        return out

    def _generated(self, channel: str, d: int) -> pd.DataFrame:
        name = CHANNELS[channel][0]
        rows = self._rows[channel].get(d, np.zeros(0, np.int64))
        threads = self.data.threads[name][rows]
        keep = np.ones(rows.size, dtype=bool)
        if channel == "visit":
            keep = threads < 0  # the disputes' visits are the officers' now
        elif channel != "case":
            settled = (threads >= 0) & (self.settled_on[np.maximum(threads, 0)] >= 0)
            settled &= self.settled_on[np.maximum(threads, 0)] < d
            relapse = settled & (self._relapse_u[channel][rows] < self.p.relapse)
            for th in np.unique(threads[relapse]):
                self.settled_on[th], self.attended[th] = -1, -1  # it flares up again: live, unvisited
            keep = ~settled | relapse
            self.tally.suppressed_signals += int((~keep).sum())
            self.tally.relapses += int(relapse.sum())
        frame = self.data.frames[name].iloc[rows[keep]].reset_index(drop=True)
        if channel == "call":
            self._emitted_calls.update(frame["call_id"])
        return frame

    def unit_status(self) -> pd.DataFrame:
        """The units' status feed for the urgent calls that happened: before go-live, and since then
        those the world did not spare (a settled dispute's later calls never came)."""
        calls = self.data.frames["calls.csv"]
        before = calls.loc[self._day["call"] < self._index(self.start), "call_id"]
        happened = {f"INC-{c}" for c in before} | {f"INC-{c}" for c in self._emitted_calls}
        feed = self.data.frames["unit_status.csv"]
        return feed[feed["incident_id"].isin(happened)].reset_index(drop=True)

    def _neglect(self, d: int) -> np.ndarray:
        """Days each dispute has gone unvisited beyond the grace days (0 where not live)."""
        threads = np.arange(self.first_day.size)
        since = np.maximum(self.attended, self.first_day)
        days = np.maximum(d - since - self.p.escalation.grace_days, 0)
        return np.where(self._live(threads, d), days, 0)

    def _escalation(self, day: date, d: int) -> tuple[pd.DataFrame, np.ndarray]:
        """Neglected disputes: their extra calls today, and which of them grow into a criminal case."""
        e, th = self.p.escalation, self.data.ctx.threads
        rng = np.random.default_rng([self.seed, 101, d])
        u_call, u_violent, u_weapon, u_case = rng.random((4, self.first_day.size))
        neglect = self._neglect(d)
        calls = np.flatnonzero(u_call < np.minimum(e.call_max, e.call_per_day * neglect))
        cases = np.flatnonzero(u_case < np.minimum(e.case_max, e.case_per_day * neglect))
        share = np.minimum(e.violence_max, e.violence_share + e.violence_per_day * neglect[calls])
        violent = u_violent[calls] < share
        cats = np.where(violent, CAT["violence"], th.category[calls])
        summary, english = render(rng, CALL, cats, english_share=0.0, headcount=th.headcount[calls])
        summary = add_danger(rng, summary, english, cats, violent & (u_weapon[calls] < e.weapon_share))
        self.tally.extra_calls += calls.size
        self.tally.extra_violent_calls += int(violent.sum())
        n = calls.size
        hour = rng.integers(8 * 3600, 22 * 3600, n)
        received = pd.Timestamp(day) + pd.to_timedelta(np.sort(hour), unit="s")
        serial = [f"CE{day:%Y%m%d}{i + 1:04d}" for i in range(n)]
        times = lambda add: [(t + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%S") + OFFSET  # noqa: E731
                             for t, s in zip(received, add, strict=True)]  # fmt: skip
        frame = pd.DataFrame(
            {
                "call_id": serial,
                "received_at": times(np.zeros(n)),
                "community_code": self.data.ctx.j.comm_code[th.comm[calls]],
                "address": th.address[calls],
                "category": np.array(CATEGORIES, dtype=object)[cats],
                "priority": np.where(violent, "1", "2"),
                "summary": summary,
                "party_keys": th.parties[calls],
                "phone": "",
                "dispatched_at": times(rng.integers(30, 90, n)),
                "arrived_at": times(rng.integers(240, 720, n)),
                "closed_at": times(rng.integers(1800, 5400, n)),
                "disposition": "advised",
            }
        )
        for sid, t in zip(serial, calls, strict=True):
            self._thread_of[("call", sid)] = int(t)
        return frame[list(COLUMNS["calls.csv"])], cases

    def _relocate(self, cases: pd.DataFrame, d: int, neglected: np.ndarray) -> pd.DataFrame:
        """A settled dispute's case happens elsewhere; a neglected dispute takes one of the day's cases."""
        name, th = "cases.csv", self.data.ctx.threads
        rows = self._rows["case"].get(d, np.zeros(0, np.int64))
        threads = self.data.threads[name][rows]
        frame = self.data.frames[name]
        cases = cases.copy()
        where = ["community_code", "address", "party_keys"]
        rng = np.random.default_rng([self.seed, 104, d])
        for i, (row, t) in enumerate(zip(rows, threads, strict=True)):
            if t >= 0 and 0 <= self.settled_on[t] < d and rng.random() < self.p.prevention:
                cases.loc[i, where] = frame.loc[self._donor[row], where].to_numpy()
                self.tally.cases_prevented += 1
        offence = cases["offence"].to_numpy()
        free = [i for i, (row, t) in enumerate(zip(rows, threads, strict=True))
                if t < 0 and offence[i] != "telecom_fraud" and row not in self._moved]  # fmt: skip
        self._owed += [int(t) for t in neglected]  # a day with too few cases passes the rest on
        taken = 0
        for t, i in zip(self._owed, free, strict=False):
            cases.loc[i, where] = [self.data.ctx.j.comm_code[th.comm[t]], th.address[t], th.parties[t]]
            self._moved.add(int(rows[i]))
            self._thread_of[("case", str(cases.at[i, "case_id"]))] = int(t)
            self.tally.cases_from_neglect += 1
            taken += 1
        self._owed = self._owed[taken:]
        return cases

    # --- the officers ---------------------------------------------------------------------------

    def officer_visits(self, day: date, lists: pd.DataFrame) -> pd.DataFrame:
        """The visits officers make from the day's lists.

        `lists` columns: officer_code, place (1.. on the list), risk_id, why, level, community_code,
        category, address, party_keys, thread (-1: no dispute behind it), story (a story's tag or '').
        """
        d = self._index(day)
        rng = np.random.default_rng([self.seed, 102, d])
        lists = lists.sort_values(["officer_code", "place"], kind="stable").reset_index(drop=True)
        diligence = np.where(
            lists["officer_code"].isin(self.negligent), self.p.officers.negligent_diligence, 1.0
        )
        made = rng.random(len(lists)) < diligence
        for code in lists.loc[~made, "officer_code"]:
            self.tally.by_officer_skipped[code] = self.tally.by_officer_skipped.get(code, 0) + 1
        self.tally.visits_skipped += int((~made).sum())
        visits = lists[made].reset_index(drop=True)
        self.tally.visits_made += len(visits)
        concern, outcome = self._findings(rng, visits, d)
        slot = visits.groupby("officer_code").cumcount().to_numpy()
        start = pd.Timestamp(day) + pd.Timedelta(hours=self.p.officers.first_visit_hour)
        at = [
            start + pd.Timedelta(minutes=int(50 * s + m))
            for s, m in zip(slot, rng.integers(0, 30, len(visits)), strict=True)
        ]
        ids = [f"VS{day:%Y%m%d}{i + 1:05d}" for i in range(len(visits))]
        for sid, t in zip(ids, visits["thread"], strict=True):
            if t >= 0:
                self._thread_of[("visit", sid)] = int(t)
        frame = pd.DataFrame(
            {
                "visit_id": ids,
                "visited_at": [t.strftime("%Y-%m-%dT%H:%M:%S") + OFFSET for t in at],
                "officer_code": visits["officer_code"],
                "community_code": visits["community_code"],
                "address": visits["address"],
                "category": visits["category"],
                "summary": [SUMMARY[o, c] for o, c in zip(outcome, concern, strict=True)],
                "party_keys": visits["party_keys"].fillna(""),
                "concern": concern,
                "risk_id": visits["risk_id"].astype(int).astype(str),
                "outcome": outcome,
            }
        )
        return frame[list(COLUMNS["visits.csv"])]

    def _findings(
        self, rng: np.random.Generator, visits: pd.DataFrame, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """What each visit finds (concern) and achieves (outcome), from the world behind the risk."""
        n = len(visits)
        concern, outcome = np.full(n, "low", dtype=object), np.full(n, "", dtype=object)
        u = rng.random((3, n))
        threads = visits["thread"].to_numpy(dtype=np.int64)
        live = (threads >= 0) & self._live(np.maximum(threads, 0), d)
        feud = (visits["story"] == "neighbour_feud").to_numpy()
        check = visits["why"].isin(FOLLOW_UP_CHECKS).to_numpy()
        for i in range(n):
            if feud[i]:  # the story: not settled until the autumn, then calm visit after calm visit
                concern[i] = "medium" if d < self.feud_calm_from else "low"
            elif live[i] and check[i]:
                concern[i] = "medium"  # a return visit to a dispute that has flared up again
            elif live[i]:
                concern[i], outcome[i] = self._dispute_visit(visits.at[i, "category"], u[0, i], u[1, i])
            else:  # nothing going on behind it
                calm = u[0, i] < self.p.quiet.calm
                concern[i] = ("none" if u[2, i] < 0.4 else "low") if calm else "medium"
                dispute = visits.at[i, "category"] in DISPUTES
                settles = self.p.quiet.settled_dispute if dispute else self.p.quiet.settled_other
                if calm and not check[i] and u[1, i] < settles:
                    outcome[i] = "settled"
            self._attend(int(threads[i]), d, str(outcome[i]), u[2, i])
        return concern, outcome

    def _dispute_visit(self, category: str, u: float, v: float) -> tuple[str, str]:
        r = self.p.rates(category)
        for name, p in (("settled", r.settled), ("referred", r.referred), ("escalated", r.escalated),
                        ("unreachable", r.unreachable)):  # fmt: skip
            if u < p:
                return {"settled": "low", "referred": "medium", "escalated": "high", "unreachable": ""}[
                    name
                ], name
            u -= p
        return ("low" if v < self.p.ongoing_calm else "medium"), ""

    def _attend(self, thread: int, d: int, outcome: str, u: float) -> None:
        """A visit's effect on the dispute behind it."""
        if thread < 0 or outcome == "unreachable":
            return
        self.attended[thread] = d
        if outcome == "settled" and self.settled_on[thread] < 0:
            self.settled_on[thread] = d
            self.tally.settled_by_visit += 1
        elif outcome == "referred" and self.settled_on[thread] < 0 and u < self.p.referral.settles:
            self.settled_on[thread] = d + self.p.referral.after_days

    def manifest(self) -> dict[str, Any]:
        t = self.tally
        return {
            "world_version": self.p.version,
            "start": self.start.isoformat(),
            "follow_up": self.follow_up,
            "negligent_officers": self.negligent,
            "extra_calls": t.extra_calls,
            "extra_violent_calls": t.extra_violent_calls,
            "signals_that_did_not_happen": t.suppressed_signals,
            "relapses": t.relapses,
            "cases_prevented": t.cases_prevented,
            "cases_from_neglect": t.cases_from_neglect,
            "disputes_settled_by_a_visit": t.settled_by_visit,
            "visits_made": t.visits_made,
            "visits_skipped": t.visits_skipped,
        }


SUMMARY = {
    ("settled", "low"): "上门调解，双方达成和解，矛盾已化解",
    ("referred", "medium"): "矛盾涉及专业部门，已移交相关部门处理",
    ("escalated", "high"): "走访发现矛盾激化，已上报所领导",
    ("unreachable", ""): "上门未见到当事人，改日再访",
    ("", "medium"): "走访了解情况，双方仍有分歧，继续跟进调解",
    ("", "low"): "走访了解情况，近期平稳，未再发生纠纷",
    ("", "none"): "走访了解情况，一切正常",
    ("settled", "none"): "上门了解，事情已经解决",
    ("settled", "medium"): "上门调解，双方达成和解",
}
