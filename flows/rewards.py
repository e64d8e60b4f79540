"""Rewards (奖励激励): the month's points, tip rewards and accountability lists, approved by a person.

The flow proposes from the month's records, publishes the proposals, then **pauses** for a person's
decision: the Prefect UI's Resume button shows a typed form (approver, approve all / reject all /
each, the ids to approve and to reject, a reason), and `bridgehead rewards approve` sends the same
form through the API. Only what is approved is approved; rejected lines are kept as rejected; a
month run again proposes only what is still undecided, so nothing is ever paid twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NotRequired

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from pydantic import Field

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task
from bridgehead.rules import get_rules
from models.clock import today
from tasks.rewards.ledger import Decided, Decision, decide
from tasks.rewards.proposals import Proposed, month, propose
from tasks.rewards.report import leaderboard, payouts, per_station, proposals_markdown, station_lists

APPROVAL_TIMEOUT_S = 7 * 86400  # a week for someone to look at the month's proposals


class RewardsApproval(RunInput):
    """The approval form (审批): who decides, what, and why."""

    approver: str = Field(description="Your name, as it goes into the audit trail")
    decision: Decision = Field(
        Decision.each, description="approve_all, reject_all, or each (the ids listed below)"
    )
    approve: list[int] = Field(default_factory=list, description="Ids to approve (with 'each')")
    reject: list[int] = Field(default_factory=list, description="Ids to reject (with 'each')")
    reason: str = Field("", description="Why (kept with each decision)")


class RewardsRun(Proposed):
    """A month's run, as the flow returns it: what was proposed, then the decision (None when nothing
    waited for one) and who made it."""

    period: str
    decided: Decided | None
    approver: NotRequired[str]


@dataclass(frozen=True)
class Published:
    """What publishing the month wrote: the artifacts' rows, and the proposals' markdown (the form's text)."""

    leaderboard: int
    accountability: int
    payouts: int
    markdown: str


def previous_month(day: date) -> str:
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def _propose(period: str) -> Proposed:
    with session_scope() as session:
        return propose(session, get_rules(), period)


def _decide(period: str, answer: RewardsApproval) -> Decided:
    with session_scope() as session:
        return decide(
            session, period, answer.approver, answer.decision, answer.approve, answer.reject, answer.reason
        )


def _table(rows: Sequence[Mapping[str, Any]], none: dict[str, Any]) -> list[dict[str, Any]]:
    """A table artifact's rows, or the one row saying there are none."""
    return [dict(row) for row in rows] or [none]


def _publish(period: str) -> Published:
    """The leaderboard, the accountability lists and the payout list (codes and amounts only)."""
    with session_scope() as session:
        board, lists, paid, pending = (
            leaderboard(session, period),
            station_lists(session, period),
            payouts(session, period),
            proposals_markdown(session, period),
        )
    get_run_logger().info("%s by station: %s", period, per_station(board, lists))
    key = f"rewards-{period}"
    create_markdown_artifact(key=key, markdown=pending, description=f"rewards and accountability, {period}")
    create_table_artifact(
        key=f"{key}-leaderboard", table=_table(board, {"officer": "none"}), description="per station"
    )
    create_table_artifact(
        key=f"{key}-accountability", table=_table(lists, {"station": "none"}), description="问责清单"
    )
    create_table_artifact(
        key=f"{key}-payouts", table=_table(paid, {"tip": "none"}), description="codes and amounts"
    )
    return Published(len(board), len(lists), len(paid), pending)


propose_task = db_task(_propose, name="propose-rewards")
decide_task = db_task(_decide, name="record-decisions")
publish_task = db_task(_publish, name="publish-rewards")


def _run_name() -> str:
    return f"rewards-{flow_run.parameters.get('period') or previous_month(today())}"


@flow(name="rewards", flow_run_name=_run_name)
def rewards(period: str | None = None, approval_timeout_s: int = APPROVAL_TIMEOUT_S) -> RewardsRun:
    """Propose the month's rewards and accountability (default: last month), wait for a person, record."""
    logger = get_run_logger()
    period = (period or previous_month(today())).strip()
    month(period)  # a bad period fails here, before anything is written
    proposed = propose_task(period)
    published = publish_task(period)
    logger.info(
        "%s: %d proposals waiting, %d already decided",
        period,
        proposed["proposed"],
        proposed["already_decided"],
    )
    if not proposed["proposed"]:
        return {"period": period, **proposed, "decided": None}
    answer = pause_flow_run(
        wait_for_input=RewardsApproval.with_initial_data(description=published.markdown, approver=""),
        timeout=approval_timeout_s,
    )
    decided = decide_task(period, answer)
    logger.info(
        "%s: %d approved, %d rejected, %d left undecided by %s",
        period,
        decided["approved"],
        decided["rejected"],
        decided["undecided"],
        answer.approver,
    )
    publish_task(period)
    return {"period": period, **proposed, "decided": decided, "approver": answer.approver}
