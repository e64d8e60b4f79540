"""Jurisdiction refresh (辖区底数): reload the reference files and publish the coverage report.

Runs as a Prefect flow so a change of stations, officers or units shows up in the UI with its
coverage gaps; the command line calls the same functions directly.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task
from tasks.jurisdiction import Coverage, FileResult, coverage, load_jurisdiction


def _load(folder: Path) -> list[FileResult]:
    with session_scope() as session:
        return load_jurisdiction(session, folder)


def _coverage() -> Coverage:
    with session_scope() as session:
        return coverage(session)


load_task = db_task(_load, name="load-jurisdiction")
coverage_task = db_task(_coverage, name="coverage-report")


def coverage_markdown(results: list[FileResult], cov: Coverage) -> str:
    lines = [
        "# Jurisdiction coverage (谁来防)",
        "",
        "| file | rows | created | updated | unchanged | quarantined |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r.name} | {r.rows} | {r.created} | {r.updated} | {r.unchanged} | {len(r.rejects)} |"
            for r in results
        ),
        "",
        f"- stations: {cov.stations}; communities: {cov.communities}; villages: {cov.villages}; "
        f"patrol units: {cov.units}",
        f"- communities without a police office: {len(cov.communities_without_office)}",
        f"- villages without an officer or assistant: {len(cov.villages_without_officer)}",
        "",
        *(f"- gap: community {c} {n} has no police office" for c, n in cov.communities_without_office),
        *(f"- gap: village {c} {n} has no officer" for c, n in cov.villages_without_officer),
    ]
    return "\n".join(lines)


@flow(name="jurisdiction-refresh", log_prints=True)
def jurisdiction_refresh(folder: Path) -> Coverage:
    """Reload stations, communities, officers and units from a folder; report gaps."""
    results = load_task(folder)
    cov = coverage_task()
    create_markdown_artifact(
        key="jurisdiction-coverage",
        markdown=coverage_markdown(results, cov),
        description="Coverage of communities and villages after the last jurisdiction load",
    )
    quarantined = sum(len(r.rejects) for r in results)
    print(
        f"jurisdiction loaded: {sum(r.created for r in results)} created, "
        f"{sum(r.updated for r in results)} updated, {quarantined} quarantined; "
        f"gaps: {len(cov.communities_without_office) + len(cov.villages_without_officer)}"
    )
    return cov
