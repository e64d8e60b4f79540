"""Review (复盘问效): a scope's figures for a period against the previous period and last year.

Started by hand from the Prefect UI (a form: scope, period, language) or on Mondays at 08:00 for the
city and each district. Bad parameters fail before anything is read, with the forms allowed. The
review is published three ways: a keyed markdown artifact with tables (the UI keeps its versions),
a self-contained HTML report with CSV and JSON under `reports/`, and a snapshot row in the database.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from sqlalchemy import select
from sqlmodel import col

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task
from bridgehead.settings import get_settings
from models.clock import today
from models.common import ZONE
from models.jurisdiction import Station
from models.review import Lang, ReviewRequest
from tasks.review.build import build_review, save_snapshot
from tasks.review.document import Review
from tasks.review.findings import markdown
from tasks.review.period import Period, Scope, district_code, last_full_week, parse_period, parse_scope
from tasks.review.report import write_report


class PublishedReview(Review):
    """The review and the report files written from it (html, csv, json)."""

    files: dict[str, str]


def resolve(scope: str, period: str | None, lang: str) -> tuple[Scope, Period, str]:
    """Check the parameters against the forms allowed and the jurisdiction; a ValueError otherwise."""
    request = ReviewRequest.model_validate({"scope": scope, "period": period, "lang": lang})
    parsed = parse_period(request.period or last_full_week(today()))
    if parsed.current.first > today():
        raise ValueError(f"{parsed.text} has not begun (today is {today()} in {ZONE}): nothing to see")
    with session_scope() as session:
        return parse_scope(session, request.scope), parsed, request.lang.value


def run_name(scope: str, period: str | None) -> str:
    """`review-station-61030201-2026-W47`: the scope and the period, readable in the run list."""
    shown = (period or last_full_week(today())).strip()
    return f"review-{scope.strip().replace(':', '-')}-{shown.replace(':', '-')}"


def _figures(scope: Scope, period: Period, lang: str) -> Review:
    with session_scope() as session:
        return build_review(session, scope, period, lang)


def _publish(review: Review, period: Period) -> dict[str, str]:
    """Files under reports/, the artifacts, and the snapshot row."""
    files = write_report(review, get_settings().reports_dir)
    key = review["slug"]
    create_markdown_artifact(
        key=key,
        markdown=markdown(review, files["html"]),
        description=f"{review['scope_name']} {review['period']}",
    )
    create_table_artifact(
        key=f"{key}-figures",
        table=[{"figure": k, **{c: dict(f)[c] for c in TABLE_COLUMNS}} for k, f in review["figures"].items()],
        description="figures: current, previous period, last year, changes and the Poisson verdict",
    )
    if review["rankings"]:
        create_table_artifact(
            key=f"{key}-rankings", table=[dict(r) for r in review["rankings"]], description="ranked by change"
        )
    if review["hotspots"]:
        create_table_artifact(
            key=f"{key}-hotspots",
            table=[dict(h) for h in review["hotspots"]],
            description="hotspots: the top places by 110 calls, this period against the one before",
        )
    with session_scope() as session:
        save_snapshot(session, review, period)
    return {k: str(v) for k, v in files.items()}


TABLE_COLUMNS = (
    "label",
    "current",
    "previous",
    "last_year",
    "change_vs_previous_pct",
    "change_vs_last_year_pct",
    "significant_vs_previous",
    "significant_vs_last_year",
)

figures_task = db_task(_figures, name="review-figures")
publish_task = db_task(_publish, name="publish-review")


def _run_name() -> str:
    params = flow_run.parameters
    return run_name(str(params.get("scope") or "city"), params.get("period"))


@flow(name="review", flow_run_name=_run_name, log_prints=False)
def review(scope: str = "city", period: str | None = None, lang: Lang = Lang.zh) -> PublishedReview:
    """Review `scope` (city | district:CODE | station:CODE | community:CODE) for `period`
    (2026-W47 | 2026-11 | 28d:2026-11-29 | ytd:2026-11-29; blank: the last full week) in `lang`."""
    logger = get_run_logger()
    where, when, language = resolve(scope, period, lang)
    result = figures_task(where, when, language)
    files = publish_task(result, when)
    logger.info(
        "%s %s (%s): %d figures, %d findings; report %s",
        where.text,
        when.text,
        where.name,
        len(result["figures"]),
        len(result["findings"]),
        files["html"],
    )
    return {**result, "files": files}


def districts() -> list[str]:
    with session_scope() as session:
        stations = session.execute(select(col(Station.station_code), col(Station.district))).tuples().all()
        return sorted({district_code(code, district) for code, district in stations})


def _weekly_name() -> str:
    return f"weekly-review-{flow_run.parameters.get('period') or last_full_week(today())}"


@flow(name="weekly-review", flow_run_name=_weekly_name)
def weekly_review(period: str | None = None, lang: Lang = Lang.zh) -> list[str]:
    """Monday's reviews: the city, then each district, for the last full week (or `period`)."""
    week = period or last_full_week(today())
    done = []
    for scope in ["city", *(f"district:{code}" for code in districts())]:
        done.append(review(scope=scope, period=week, lang=lang)["slug"])
    return done
