"""`bridgehead rewards`: the month's proposals, a person's decision, the leaderboard and the payouts."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from deployments.cli_checks import id_list, ids
from deployments.console import emit, not_blank, say
from deployments.register_cli import Format, FormatOption

rewards_app = typer.Typer(help="Rewards and accountability (奖励激励): proposed, approved by a person, paid.")

PeriodOption = Annotated[str, typer.Option("--period", help="The month, like 2026-11.")]


def _check(period: str) -> None:
    from tasks.rewards.proposals import month

    try:
        month(period)
    except ValueError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


@rewards_app.command("run")
def rewards_run(
    period: Annotated[str | None, typer.Option("--period", help="The month (default: last month).")] = None,
) -> None:
    """Propose the month's rewards, then wait for a person's approval (UI or `rewards approve`)."""
    from flows.rewards import previous_month, rewards
    from models.clock import today

    month_text = period or previous_month(today())
    _check(month_text)
    if not os.environ.get("PREFECT_API_URL"):  # nobody could reach a temporary server
        say(
            "[red]the run waits for a person's approval, so it needs a Prefect server others can reach: "
            "start `bridgehead serve` and set PREFECT_API_URL=http://127.0.0.1:4200/api (or run the "
            "`rewards` deployment from the UI)[/]"
        )
        raise typer.Exit(2)
    say(
        f"rewards-{month_text}: proposals are published, then the run waits for approval — the Resume button "
        f"in the Prefect UI, or: bridgehead rewards approve --period {month_text} --by NAME --all"
    )
    result = rewards(period=month_text)
    decided = result["decided"]
    if decided is None:
        say(f"{month_text}: nothing waits for a decision ({result['already_decided']} already decided)")
    else:
        say(
            f"{month_text}: {decided['approved']} approved, {decided['rejected']} rejected, "
            f"{decided['undecided']} undecided, by {result['approver']}"
        )


def approve_run(
    period: str,
    approver: str,
    decision: str,
    approve: list[int],
    reject: list[int],
    reason: str,
    wait_s: float = 30.0,
) -> str:
    """Resume the month's paused run with a decision: the same API call as the UI's Resume form.

    Prefect marks a run PAUSED a moment before it saves the form's schema, and refuses a resume
    in between ("Run input schema not found"); so a run counts as waiting only once its form is
    there, and a run caught in that moment is waited for (up to `wait_s`).
    """
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterName,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    deadline = time.monotonic() + wait_s
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    name=FlowRunFilterName(any_=[f"rewards-{period}"]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                )
            )
            if not runs:
                raise LookupError(f"no rewards run for {period} is waiting for approval")
            ready = [run for run in runs if _form_saved(client, run)]
            if ready:
                break
            if time.monotonic() > deadline:
                raise LookupError(f"rewards-{period} is paused but its approval form never appeared")
            time.sleep(0.2)
    answer = {
        "approver": approver,
        "decision": decision,
        "approve": approve,
        "reject": reject,
        "reason": reason,
    }
    resume_flow_run(ready[0].id, run_input=answer)  # type: ignore[arg-type]
    return str(ready[0].id)


def _form_saved(client: Any, run: Any) -> bool:
    """Whether the paused run has saved the schema of the input it waits for."""
    import httpx

    keyset = run.state.state_details.run_input_keyset if run.state else None
    if not keyset:
        return False
    try:
        client.read_flow_run_input(run.id, keyset["schema"])
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return False
        raise
    return True


def _ids(text: str | None) -> list[int]:
    return ids(text)


@rewards_app.command("approve")
def rewards_approve(
    period: PeriodOption,
    by: Annotated[
        str, typer.Option("--by", help="The approver's name (goes into the audit trail).", callback=not_blank)
    ],
    approve_all: Annotated[bool, typer.Option("--all", help="Approve every proposal waiting.")] = False,
    reject_all: Annotated[bool, typer.Option("--reject-all", help="Reject every proposal waiting.")] = False,
    approve: Annotated[
        str | None, typer.Option(help="Ids to approve, comma-separated.", callback=id_list)
    ] = None,
    reject: Annotated[
        str | None, typer.Option(help="Ids to reject, comma-separated.", callback=id_list)
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (kept with each decision).")] = "",
) -> None:
    """Give the decision the paused rewards run of the month waits for."""
    _check(period)
    if sum([approve_all, reject_all, bool(approve or reject)]) != 1:
        say("[red]give --all, or --reject-all, or --approve/--reject ids[/]")
        raise typer.Exit(2)
    decision = "approve_all" if approve_all else "reject_all" if reject_all else "each"
    try:
        run_id = approve_run(period, by, decision, _ids(approve), _ids(reject), reason)
    except (LookupError, ValueError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    say(f"rewards-{period} ({run_id}) resumed with the decision of {by}")


@rewards_app.command("show")
def rewards_show(
    period: PeriodOption,
    station: Annotated[str | None, typer.Option(help="One station's code.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The month's leaderboard per station, accountability lists and tip payouts (codes and amounts)."""
    from bridgehead.db import session_scope
    from tasks.rewards.report import leaderboard, payouts, station_lists

    _check(period)
    with session_scope() as session:
        sections: list[tuple[str, list[dict[str, Any]]]] = [
            (f"Leaderboard (光荣榜), {period}", leaderboard(session, period, station)),
            (f"Accountability list (问责清单), {period}", station_lists(session, period, station)),
            (f"Tip payouts, {period}", payouts(session, period, station)),
        ]
    for title, rows in sections:
        emit(rows, fmt.value, title)


@rewards_app.command("pay")
def rewards_pay(
    period: PeriodOption, by: Annotated[str, typer.Option("--by", help="Who paid out.", callback=not_blank)]
) -> None:
    """Mark the month's approved tip rewards as paid."""
    from bridgehead.db import session_scope
    from tasks.rewards.ledger import pay

    _check(period)
    with session_scope() as session:
        paid = pay(session, period, by)
    say(f"{period}: {paid} tip reward(s) marked paid")
