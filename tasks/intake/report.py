"""What an intake run tells its reader: what this run's files brought and where the risks they touched
now stand. Every figure is read through this run's files (`Signal.source_file_id`), so a ten-row inbox
costs ten rows whatever the register holds; the register as a whole is `bridgehead risks` and the review's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, case, distinct, func, select
from sqlmodel import Session, col

from models.case import CriminalCase
from models.common import Colour
from models.intake import QuarantinedRow
from models.jurisdiction import Community
from models.risk import Risk, RiskStatus
from models.signal import Signal
from tasks.intake.grading_stage import GradeSummary
from tasks.intake.linking_stage import LinkSummary
from tasks.intake.load import LoadResult


@dataclass
class IntakeReport:
    rows: int
    loaded: int
    duplicates: int
    quarantined: int
    files_skipped: int
    new_risks: int
    reopened: int
    raised: dict[str, int]
    new_red: list[int]
    signals_by_channel: dict[str, int] = field(default_factory=dict)  # loaded by this run
    cases: int = 0  # loaded by this run
    # the open risks this run's signals are on, by colour now
    open_risks_by_colour: dict[str, int] = field(default_factory=dict)
    quarantined_total: int = 0
    by_station: list[dict[str, int | str]] = field(default_factory=list)


def intake_report(
    session: Session, loads: list[LoadResult], link: LinkSummary, grading: GradeSummary
) -> IntakeReport:
    files = [r.source_file_id for r in loads if r.source_file_id]
    mine = col(Signal.source_file_id).in_(files)
    by_channel = dict(
        session.execute(
            select(col(Signal.channel), func.count()).where(mine).group_by(col(Signal.channel))
        ).all()
    )
    touched = select(col(Signal.risk_id)).where(mine, col(Signal.risk_id).is_not(None)).distinct().subquery()
    by_colour = dict(
        session.execute(
            select(col(Risk.level), func.count())
            .join(touched, touched.c.risk_id == Risk.id)
            .where(col(Risk.status) == RiskStatus.open)
            .group_by(col(Risk.level))
        ).all()
    )
    cases = select(func.count()).select_from(CriminalCase).where(col(CriminalCase.source_file_id).in_(files))
    return IntakeReport(
        rows=sum(r.rows for r in loads),
        loaded=sum(r.loaded for r in loads),
        duplicates=sum(r.duplicates for r in loads),
        quarantined=sum(r.quarantined for r in loads),
        files_skipped=sum(r.skipped_file for r in loads),
        new_risks=link.new_risks,
        reopened=link.reopened,
        raised=dict(grading.raised or {}),
        new_red=list(grading.new_red or []),
        signals_by_channel={c: int(by_channel.get(c, 0)) for c in ("call", "visit", "analysis", "tip")},
        cases=int(session.execute(cases).scalar_one()),
        open_risks_by_colour={c.value: int(by_colour.get(c.value, 0)) for c in reversed(Colour)},
        quarantined_total=int(session.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one()),
        by_station=by_station(session, files),
    )


def by_station(session: Session, file_ids: list[int]) -> list[dict[str, int | str]]:
    """What this run's files brought each station: signals, the risks they are on, and how many
    of those are open red or orange now; busiest station first."""
    if not file_ids:
        return []
    urgent = and_(col(Risk.status) == RiskStatus.open, col(Risk.level).in_((Colour.red, Colour.orange)))
    rows: Sequence[tuple[str, int, int, int]] = session.execute(
        select(
            col(Community.station_code),
            func.count(col(Signal.id)),
            func.count(distinct(col(Signal.risk_id))),
            func.count(distinct(case((urgent, Risk.id)))),
        )
        .join(Community, col(Community.community_code) == Signal.community_code)
        .outerjoin(Risk, col(Risk.id) == Signal.risk_id)
        .where(col(Signal.source_file_id).in_(file_ids))
        .group_by(col(Community.station_code))
    ).all()
    stations: list[dict[str, int | str]] = [
        {"station": code, "signals": int(n), "risks": int(risks), "red_or_orange": int(hot)}
        for code, n, risks, hot in rows
    ]
    return sorted(stations, key=lambda r: (-int(r["signals"]), str(r["station"])))


def station_line(stations: list[dict[str, int | str]], top: int = 5) -> str:
    """The busiest stations in one log line (codes and counts only)."""
    shown = "; ".join(
        f"{r['station']} {r['signals']} signals on {r['risks']} risks ({r['red_or_orange']} red/orange)"
        for r in stations[:top]
    )
    more = f"; and {len(stations) - top} more" if len(stations) > top else ""
    return f"{len(stations)} stations: {shown}{more}" if stations else "no station"


def intake_markdown(r: IntakeReport) -> str:
    colours = " · ".join(f"{c} {n:,}" for c, n in r.open_risks_by_colour.items())
    channels = " · ".join(f"{c} {n:,}" for c, n in r.signals_by_channel.items())
    return "\n".join(
        [
            "# Intake (线索汇聚)",
            "",
            f"- rows read: {r.rows:,}; loaded: {r.loaded:,}; already loaded: {r.duplicates:,}; "
            f"quarantined: {r.quarantined:,}"
            + (f"; files seen before: {r.files_skipped}" if r.files_skipped else ""),
            f"- new risks: {r.new_risks:,}; reopened: {r.reopened:,}; colour changes: "
            + (", ".join(f"{c} {n:,}" for c, n in r.raised.items()) or "none"),
            "",
            f"**Signals this run loaded:** {channels}; criminal cases {r.cases:,}",
            "",
            f"**The open risks they are on, by colour now:** {colours}",
            "",
            f"**Quarantined rows in all:** {r.quarantined_total:,} (`bridgehead quarantine list`)",
            *_station_table(r.by_station),
        ]
    )


def _station_table(stations: list[dict[str, int | str]]) -> list[str]:
    if not stations:
        return []
    head = [
        "",
        "**By station (this run):**",
        "",
        "| station | signals | risks | red or orange now |",
        "|---|---:|---:|---:|",
    ]
    return head + [
        f"| {r['station']} | {r['signals']:,} | {r['risks']:,} | {r['red_or_orange']:,} |" for r in stations
    ]
