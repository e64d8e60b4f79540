"""`bridgehead tips`: a tipster checks a tip by its code; an officer records the verdict.

`status` only reads (no Prefect) and answers an unknown code and a wrong one with the same line and
exit code, never echoing what was typed, so the command cannot be used to probe for codes.
`verify` is a person's act and is audited under the officer's code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape

from bridgehead.rules import TipOutcome
from deployments.console import not_blank, say
from deployments.options import TIME, parse_time

tips_app = typer.Typer(help="Citizen tips (线索举报): the tipster's status, the officer's verdict.")
# One code in 64 starts with "-": read it as the code, not as an unknown option.
CODE_FIRST = {"ignore_unknown_options": True}


@tips_app.command("status", context_settings=CODE_FIRST)
def tips_status(code: Annotated[str, typer.Argument(help="The tip code the tipster was given.")]) -> None:
    """A tip's status by its code: received, verified, rewarded or paid — nothing more."""
    from bridgehead.db import session_scope
    from tasks.rewards.tips import NO_SUCH_TIP, STATUS_WORDS, tip_status

    code = code.strip()
    with session_scope() as session:
        status = tip_status(session, code)
    if status is None:
        say(NO_SUCH_TIP)
        raise typer.Exit(1)
    say(f"Tip {escape(code)}: {status} ({STATUS_WORDS.get(status, status)})")


@tips_app.command("verify", context_settings=CODE_FIRST)
def tips_verify(
    code: Annotated[str, typer.Argument(help="The tip's code.")],
    by: Annotated[str, typer.Option("--by", help="Your officer code (for the audit).", callback=not_blank)],
    outcome: Annotated[TipOutcome, typer.Option("--outcome", help="What checking the tip found.")],
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            help="When (ISO 8601; no offset means the jurisdiction's time zone). Default: now.",
            parser=parse_time,
            metavar=TIME,
        ),
    ] = None,
) -> None:
    """Record your verdict on a tip (once); its reward, if any, follows from the outcome."""
    from bridgehead.db import session_scope
    from tasks.rewards.tips import verify_tip

    when = parse_time(at)
    try:
        with session_scope() as session:
            result = verify_tip(session, code.strip(), by, outcome, at=when)
    except (LookupError, ValueError) as exc:
        say(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from exc
    risk = f", risk {result['risk_id']}" if result["risk_id"] is not None else ""
    say(f"Tip {result['tip_id']}: verified (已核实) by {by} as {result['outcome']}{risk}.")
