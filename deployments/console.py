"""What the command line prints: plain rich tables a duty officer can read at a glance."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridgehead.exports import safe_row
from models.common import local_text
from tasks.jurisdiction import Coverage, FileResult

# Wide enough for the register's tables when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 160)


def local(at: datetime | None) -> str:
    """A stored UTC time as the stations read it: local time, to the minute."""
    return "" if at is None else local_text(at, minutes=True)


def say(message: str) -> None:
    """One message per line, never wrapped, so it can be grepped and copied."""
    console.print(message, soft_wrap=True, highlight=False)


def print_load(results: Sequence[FileResult]) -> None:
    table = Table(title="Jurisdiction load (辖区底数)")
    for col in ("file", "rows", "created", "updated", "unchanged", "quarantined"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for r in results:
        table.add_row(r.name, *(str(n) for n in (r.rows, r.created, r.updated, r.unchanged, len(r.rejects))))
    console.print(table)
    for r in results:
        for reject in r.rejects[:20]:
            say(f"[yellow]quarantined[/] {reject.file}:{reject.line}: {reject.reason}")
        if len(r.rejects) > 20:
            say(f"[yellow]… and {len(r.rejects) - 20} more from {r.name}[/]")


def print_coverage(cov: Coverage) -> None:
    table = Table(title="Coverage (谁来防: 一社区一警务室, 一村一警)")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("stations (派出所)", str(cov.stations))
    table.add_row("urban communities (社区)", str(cov.communities))
    table.add_row("  of them smart-security (智慧安防)", str(cov.smart_security_communities))
    table.add_row("administrative villages (行政村)", str(cov.villages))
    for role, n in cov.officers_by_role.items():
        table.add_row(f"officers: {role}", str(n))
    table.add_row("patrol units", str(cov.units))
    table.add_row("communities without a police office", str(len(cov.communities_without_office)))
    table.add_row("villages without an officer or assistant", str(len(cov.villages_without_officer)))
    console.print(table)
    for code, name in cov.communities_without_office:
        say(f"[red]gap[/] community {code} {name}: no police office (警务室)")
    for code, name in cov.villages_without_officer:
        say(f"[red]gap[/] village {code} {name}: no community officer or assistant")
    say(coverage_verdict(cov))


def coverage_verdict(cov: Coverage) -> str:
    if cov.covered:
        return (
            f"[green]Covered:[/] all {cov.communities} communities have a police office and all "
            f"{cov.villages} villages have an officer or assistant."
        )
    gaps = len(cov.communities_without_office) + len(cov.villages_without_officer)
    return f"[red]Not covered: {gaps} gap(s) listed above.[/]"


def emit(rows: Sequence[dict[str, object]], fmt: str, title: str) -> None:
    """Print records as a table for people, or as CSV / JSON for other programs."""
    import csv
    import json

    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), ensure_ascii=False, default=str, indent=2) + "\n")
        return
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        # RFC 4180's CRLF: with "\n" alone, csv leaves a field holding a bare "\r" unquoted (a broken row)
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(safe_row(row) for row in rows)  # no cell a spreadsheet would run
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        # data is shown as it is: a summary's "[phone]" redaction is text, not rich markup to drop
        table.add_row(*("" if v is None else escape(str(v)) for v in row.values()))
    console.print(table)
    if not rows:
        say("(none)")


def print_intake(channel: str, report: Any) -> None:
    """One intake run in a few lines: this run's counts, then where the risks it touched stand now."""
    import os

    say(
        f"[bold]{channel}[/]: {report.rows:,} rows, {report.loaded:,} loaded, {report.duplicates:,} already "
        f"loaded, {report.quarantined:,} quarantined; {report.new_risks:,} new risks, {report.reopened:,} "
        f"reopened"
    )
    colours = ", ".join(f"{c} {n:,}" for c, n in report.open_risks_by_colour.items())
    channels = ", ".join(f"{c} {n:,}" for c, n in report.signals_by_channel.items())
    say(f"  loaded: signals {channels}; cases {report.cases:,}; the open risks they are on: {colours}")
    if report.quarantined:
        say("  quarantined rows: bridgehead quarantine list")
    from deployments.local_server import temporary_server_running

    where = os.environ.get("PREFECT_API_URL")
    seen = (
        f"see {where.removesuffix('/api')}"
        if where and not temporary_server_running()
        else "ran on a temporary local Prefect server"
    )
    say(f"  flow run: {seen}")


def not_blank(value: str | None) -> str | None:
    """A name or a reason on an audited act: a blank one would put nobody, or nothing, in the trail."""
    import typer

    if value is not None and not value.strip():
        raise typer.BadParameter("must not be blank")
    return value.strip() if value is not None else None
