"""Disposal (处置): closing an incident with its outcome, and handing a remaining dispute on.

A quick response ends the night, not the trouble: where a dispute remains (the officer names its
category, or the outcome is one the rules say leaves it open, such as `mediated`), the disposal is
taken in as a signal and goes through the same link and grade rules as any other, so the dispute
lands on a risk that the follow-up sweep keeps visiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select, true, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.locks import hold_register
from bridgehead.privacy import scrub_text
from bridgehead.rules import Rules
from models.common import DISPUTE_CATEGORIES, FUTURE_TOLERANCE, Category, Colour, local_text, utcnow
from models.incident import Dispatch, Incident, IncidentOutcome, UnitStatusEvent
from models.jurisdiction import Officer, PatrolUnit, UnitStatus
from models.risk import Risk, RiskStatus
from models.signal import Signal, SignalParty
from tasks.follow_up.ends import Ends
from tasks.intake.grading_stage import grade_pending
from tasks.intake.linking_stage import link_pending
from tasks.quick_response.incidents import get_incident


@dataclass
class Disposal:
    incident_code: str
    outcome: str
    units_freed: list[str]
    signal_id: int | None = None
    risk_id: int | None = None
    officer_code: str | None = None  # the closer as an officer; None: not an officer, no points


def closing_officer(session: Session, by: str, station_code: str) -> str | None:
    """The officer who closes: `by` is an officer code, or the name of exactly one officer of the
    incident's station (else of the city). A name shared or unknown is kept as given, and earns
    nobody the response's points: guessing would credit the wrong person."""
    if session.get(Officer, by) is not None:
        return by
    for where in (col(Officer.station_code) == station_code, true()):
        codes = session.scalars(select(col(Officer.officer_code)).where(col(Officer.name) == by, where)).all()
        if len(codes) == 1:
            return codes[0]
        if codes:
            return None
    return None


def remaining_dispute(
    rules: Rules, incident: Incident, outcome: IncidentOutcome, named: str | None
) -> str | None:
    """The dispute category left open: named by the officer, or implied by outcome and category."""
    if named:
        if named not in DISPUTE_CATEGORIES:
            raise ValueError(f"{named!r} is not a dispute category ({', '.join(sorted(DISPUTE_CATEGORIES))})")
        return named
    if (
        outcome.value in rules.quick_response.dispute_remains_after
        and incident.category in DISPUTE_CATEGORIES
    ):
        return incident.category
    return None


def close_incident(
    session: Session,
    rules: Rules,
    code: str,
    outcome: IncidentOutcome,
    *,
    by: str,
    at: datetime | None = None,
    note: str | None = None,
    dispute: str | None = None,
) -> Disposal:
    """Close an incident (a person's act), free its units, and pass a remaining dispute to intake."""
    hold_register(session)  # before the first read: the dispute may be linked and graded below
    at, note = at or utcnow(), note and scrub_text(note)  # a note must not carry a phone number onwards
    incident = get_incident(session, code)
    if incident.status == "closed":
        closed_at = cast(datetime, incident.closed_at)  # a closed incident has its time
        raise ValueError(f"{code} was closed at {local_text(closed_at)} with outcome {incident.outcome}")
    if at > utcnow() + FUTURE_TOLERANCE:
        raise ValueError(f"{code} cannot be closed at {local_text(at)}: that is in the future")
    if at < incident.opened_at:
        raise ValueError(f"{code} opened at {local_text(incident.opened_at)}: it cannot close before that")
    category = remaining_dispute(rules, incident, outcome, dispute)
    actor = audit.current_actor(by)
    freed = _free_units(session, incident, at)
    session.execute(
        update(Dispatch)
        .where(col(Dispatch.incident_id) == incident.id, col(Dispatch.cleared_at).is_(None))
        .values(cleared_at=at)
    )
    before = incident.status
    incident.status, incident.closed_at, incident.outcome, incident.outcome_note = (
        "closed",
        at,
        outcome.value,
        note,
    )
    officer = closing_officer(session, by, incident.station_code)
    incident.closed_by = officer or by  # who answers for the response (an officer earns its points)
    session.add(incident)
    result = Disposal(code, outcome.value, freed, officer_code=officer)
    changes = [
        audit.Change(
            "close",
            "incident",
            code,
            {"status": before},
            {
                "status": "closed",
                "outcome": outcome.value,
                "closed_at": at,
                "by": by,
                "officer_code": officer,
                "units_freed": freed,
            },
            note or f"closed: {outcome.value}",
        )
    ]
    if category:
        result.signal_id = _disposal_signal(session, incident, category, outcome, at, note)
        session.flush()
        link_pending(session, rules)
        grade_pending(session, rules)
        result.risk_id = session.get(Signal, result.signal_id).risk_id  # type: ignore[union-attr]
        changes.append(
            audit.Change(
                "hand_over",
                "incident",
                code,
                None,
                {"signal": result.signal_id, "risk": result.risk_id, "category": category},
                f"a {category} dispute remains after {outcome.value}: it goes on the risk register",
            )
        )
        changes += _settled_on_scene(session, rules, result, outcome, at)
    audit.append(session, changes, actor=actor)
    return result


# A dispute mediated on the spot is settled (the melon field), one handed to another body referred:
# the risk then waits for its return visit or check like one a visit settled (tasks.follow_up.ends).
_DISPOSAL_OUTCOME = {IncidentOutcome.mediated: "settled", IncidentOutcome.referred: "referred"}


def _settled_on_scene(
    session: Session, rules: Rules, result: Disposal, outcome: IncidentOutcome, at: datetime
) -> list[audit.Change]:
    risk = session.get(Risk, result.risk_id) if result.risk_id else None
    step = _DISPOSAL_OUTCOME.get(outcome)
    if risk is None or step is None or risk.status != RiskStatus.open:
        return []
    ends = Ends(session, rules, at)
    evidence = {"disposal": result.signal_id}
    if step == "referred":
        ends.refer(risk, at, evidence)
    elif risk.level != Colour.red:  # a red risk still needs its chief's sign-off
        ends.settle(risk, at, evidence, rule="ends.mediated_on_scene")
    return ends.write()


def _free_units(session: Session, incident: Incident, at: datetime) -> list[str]:
    units = list(
        session.scalars(
            select(PatrolUnit)
            .where(col(PatrolUnit.incident_id) == incident.id)
            .order_by(col(PatrolUnit.unit_code))
        )
    )
    for unit in units:
        unit.status, unit.status_since, unit.incident_id = UnitStatus.free.value, at, None
        session.add(unit)
        session.add(
            UnitStatusEvent(unit_code=unit.unit_code, incident_id=incident.id, status="cleared", at=at)  # type: ignore[arg-type]
        )
    return [u.unit_code for u in units]


def _disposal_signal(
    session: Session,
    incident: Incident,
    category: str,
    outcome: IncidentOutcome,
    at: datetime,
    note: str | None,
) -> int:
    """The disposal as a closed call record (处警反馈) at the incident's place, with its parties."""
    origin = session.get(Signal, incident.signal_id) if incident.signal_id else None
    risk = session.get(Risk, incident.risk_id) if incident.risk_id else None
    address = origin.address if origin else (risk.address_norm if risk and risk.address_norm else "")
    signal = Signal(
        channel="call",
        source_id=f"{incident.incident_code}#disposal",
        occurred_at=at,
        community_code=incident.community_code,
        address=address,
        address_norm=origin.address_norm if origin else address,
        category=Category(category),
        summary=f"处置 {outcome.value}" + (f": {note}" if note else ""),
        party_keys=origin.party_keys if origin else (risk.party_pair if risk else None),
        closed_at=at,
        disposition=outcome.value,
    )
    session.add(signal)
    session.flush()
    if signal.party_keys:
        session.add_all([SignalParty(signal_id=signal.id, party_key=k) for k in signal.party_keys.split(";")])  # type: ignore[arg-type]
    return signal.id  # type: ignore[return-value]
