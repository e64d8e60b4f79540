"""`bridgehead audit`: the hash-chained audit trail checked, and its head printed to keep elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import database_label
from deployments.console import say

audit_app = typer.Typer(help="The hash-chained audit trail.")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:SHA256 as `bridgehead audit anchor` printed it, or a file holding that line."),
    ] = None,
) -> None:
    """Check the audit chain, its head and a kept anchor; name the first row that does not fit (exit 1)."""
    from bridgehead import audit
    from bridgehead.db import session_scope

    kept = None
    if anchor is not None:
        text = Path(anchor).read_text() if Path(anchor).is_file() else anchor
        try:
            kept = audit.Anchor.parse(text)
        except ValueError as exc:
            say(f"[red]--{exc}[/]")
            raise typer.Exit(2) from None
    with session_scope() as session:
        verdict = audit.verify(session, against=kept)
        head = session.get(audit.AuditHead, 1)
    if verdict.ok:
        say(f"[green]Audit chain intact:[/] {verdict.rows_checked:,} rows in {database_label()}")
        if kept is not None:
            say(f"It holds the anchor you kept (row {kept.seq}).")
        if head is not None:
            say(f"Anchor to keep elsewhere: {head.seq}:{head.hash}")
        return
    say(f"[red]Audit chain broken at row {verdict.first_bad_seq}:[/] {verdict.problem}")
    say(f"{verdict.rows_checked:,} rows before it check out.")
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    out: Annotated[Path | None, typer.Option(help="Also write the line to this file.")] = None,
) -> None:
    """Print the chain's head as SEQ:SHA256: kept outside the database, it shows a rewritten tail."""
    from bridgehead import audit
    from bridgehead.db import session_scope

    with session_scope() as session:
        line = str(audit.anchor(session))
    if out is not None:
        out.write_text(line + "\n")
    typer.echo(line)
