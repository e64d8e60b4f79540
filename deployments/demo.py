"""`bridgehead demo`: the cycle on a synthetic Baoji, step by step, on a fresh SQLite database.

Each step calls the same commands a user would, so the demo shows the product, not a script.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import func, select
from sqlmodel import Session

from bridgehead.synthetic.writer import write_csv
from deployments.audit_cli import audit_verify
from deployments.cli_checks import finite, output_folder
from deployments.console import console, coverage_verdict, emit, local, print_coverage, say
from deployments.local_server import flow_server
from deployments.options import MAX_SCALE, SeedOption
from deployments.simulate_cli import print_comparison
from deployments.simulate_cli import weekly as _weekly
from models.risk import Risk

if TYPE_CHECKING:
    from deployments.simulate import Setup
    from tasks.review.counterfactual import Difference

REPLAY_DAYS = 120  # the cycle's last four months, day by day (`--replay-days 365`: the whole year)
SUMMER_SLACK = 30  # days the go-live may move back so the summer's stories happen under the product


def go_live(end: date, replay_days: int) -> date:
    """The first simulated day: `replay_days` before the data's end, or a little earlier if that lets the
    summer's stories (the lost child on 7 August, the melon field on the 10th) happen under the product;
    further back than a month they stay history, so the demo's length does not grow with the date."""
    from bridgehead.synthetic.timeline import last_before

    start = end - timedelta(days=min(replay_days, 365))
    summer = last_before(end, 8, 7) - timedelta(days=3)
    return summer if start > summer >= start - timedelta(days=SUMMER_SLACK) else start


def run_demo(folder: Path, seed: int = 7, scale: float = 1.0, replay_days: int = REPLAY_DAYS) -> None:
    from bridgehead.db import get_engine, session_scope
    from deployments import simulate as sim
    from models.clock import today
    from tasks.jurisdiction import coverage

    end = today()
    setup = sim.Setup(folder, seed, scale, go_live(end, replay_days), end)
    saved = {k: os.environ.get(k) for k in sim.ENVIRONMENT}
    try:
        console.rule(
            f"1. A synthetic Baoji (宝鸡), and the register when Bridgehead goes live on {setup.start}"
        )
        _, world = sim.prepare(setup)
        say(f"The generated city is in {setup.data}; the register took in what came before {setup.start}")
        without = sim.Background(setup)  # step 9's run, on the other core meanwhile
        console.rule("2. Coverage (谁来防)")
        with session_scope() as session:
            print_coverage(coverage(session))
        days = (setup.end - setup.start).days
        console.rule(
            f"3. The cycle, day by day: {days} days from {setup.start} through the inbox and the daily sweep"
        )
        say(
            "Each morning the sweep takes in yesterday's inbox and plans each officer's day; the chiefs "
            "sign off red risks a visit settled; the officers work their lists "
            f"({len(world.negligent)} of them only about half, never told to the product); the city's "
            "calls, cases, analysis hits and tips arrive."
        )
        sim.run(setup, world, progress=_weekly)
        say(sim.accountability_line(sim.accountability(setup, world.negligent)))
        say(f"bridgehead sweep --date {setup.end}   (the morning's daily sweep: a flow run in the UI)")
        console.rule("4. Quick response (快反处置): the units' year, then the lost child on 盛世广场")
        feed = setup.data / "unit_status.csv"
        write_csv(world.unit_status(), feed)
        replay_lost_child(setup.data, feed)
        console.rule("5. The stories as the register tells them: the neighbour feud, the melon field")
        show_story_risk(setup.data)
        show_feud_story(setup.data, setup.start)
        show_melon_field(setup.data)
        console.rule("6. Review (复盘问效): the last full week, then the year to date")
        review_city(setup.data)
        console.rule("7. Rewards (奖励激励): a tip verified, the month approved from the command line")
        month_rewards(setup.data)
        console.rule("8. The audit trail")
        audit_verify()
        console.rule("9. Does follow-up prevent? The same city with nobody working the lists")
        rows = sim.compare(setup, without.result())
        print_comparison(rows)
        url = f"sqlite:///{setup.database.as_posix()}"
        say(f"Explore: .venv/bin/bridgehead --database-url {url} risks list --level red")
        console.rule("Summary")
        with session_scope() as session:
            summarise(session)
            say(health_line(session, setup, rows))
            say(coverage_verdict(coverage(session)))
    finally:
        get_engine().dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def health_line(session: Session, setup: Setup, rows: list[Difference]) -> str:
    """The cycle's health in one line, with the conversions against the counterfactual."""
    from bridgehead.rules import get_rules
    from tasks.review.health import health, in_one_line

    found = health(session, get_rules(), setup.end - timedelta(days=1))
    conv = next(r for r in rows if r["figure"] == "conversions")
    verdict = "a real difference" if conv["significant"] else "within chance"
    return (
        f"{in_one_line(found)}; conversions {conv['with_cycle']} against {conv['without']} without follow-up "
        f"({verdict})"
    )


def summarise(session: Session) -> None:
    """The register in three lines, and the coverage verdict last."""
    from models import QuarantinedRow, Risk, Signal

    signals = dict(session.execute(select(Signal.channel, func.count()).group_by(Signal.channel)).all())
    open_risks = dict(
        session.execute(
            select(Risk.level, func.count()).where(Risk.status == "open").group_by(Risk.level)
        ).all()
    )
    quarantined = session.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one()
    say("Signals: " + ", ".join(f"{c} {signals.get(c, 0):,}" for c in ("call", "visit", "analysis", "tip")))
    say(
        "Open risks: "
        + ", ".join(f"{c} {open_risks.get(c, 0):,}" for c in ("red", "orange", "yellow", "blue"))
    )
    say(f"Quarantined rows: {quarantined:,}")


def replay_lost_child(data: Path, feed: Path) -> None:
    """Take in the year's unit status feed, then replay the planted night minute by minute.

    The call was taken in with the others and opened an incident; here the quick-response flow
    runs as of 40 s after the call (every free unit of 陈仓派出所, for a search), the units report
    in, the child is found, and the watch judges the 1-3-5 targets half an hour on.
    """
    from datetime import datetime, timedelta

    from deployments import incidents_cli as incidents

    story = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["stories"]["lost_child"]
    call = datetime.fromisoformat(story["received_at"])
    at = lambda seconds: (call + timedelta(seconds=seconds)).isoformat()  # noqa: E731
    incidents.incidents_update([feed])
    say(
        f"{story['received_at']}: 110 call {story['call_id']}, a three-year-old missing on {story['address']}"
    )
    incidents.incidents_respond(story["incident_code"], as_of=at(story["replay_dispatch_after_s"]))
    incidents.incidents_update([data / story["search_feed"]])
    incidents.incidents_close(
        story["incident_code"],
        outcome="person_found",
        by=story["patrol_officer"],
        note="孩子在广场东侧找到，已交还家长",
        dispute=None,
        at=at(story["found_after_s"]),
    )
    incidents.incidents_watch(as_of=at(30 * 60))
    incidents.incidents_show(story["incident_code"])


def review_city(data: Path) -> None:
    """The city's last full week (the Monday review), then its year to date, as a user runs them."""
    from datetime import date, timedelta

    from deployments.review_cli import print_review
    from flows.review import review
    from tasks.review.period import last_full_week

    end = date.fromisoformat(json.loads((data / "manifest.json").read_text(encoding="utf-8"))["end"])
    week = last_full_week(end)
    say(f"bridgehead review --scope city --period {week}")
    print_review(review(scope="city", period=week, lang="zh"))
    ytd = f"ytd:{end - timedelta(days=1)}"
    say(f"bridgehead review --scope city --period {ytd} --lang en")
    result = review(scope="city", period=ytd, lang="en")
    for line in result["findings"]:
        say(f"- {line}")
    say(f"Reports (HTML with charts, CSV, JSON): {Path(result['files']['html']).parent.resolve()}")
    say(f"Open: {Path(result['files']['html']).resolve().as_uri()}")


def month_rewards(data: Path) -> None:
    """The planted tip verified by its officer, then the month's rewards run, paused, approved, shown.

    The approval goes through `bridgehead rewards approve`'s code: the Prefect API call the UI's
    Resume form makes. The tipster then asks for the status by the code alone.
    """
    import threading
    import time
    from datetime import datetime, timedelta

    from bridgehead.db import session_scope
    from deployments.rewards_cli import approve_run
    from deployments.tips_cli import tips_status
    from flows.rewards import rewards
    from models import Signal
    from models.tip import Tip
    from tasks.rewards.report import leaderboard, payouts
    from tasks.rewards.tips import verify_tip

    story = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["stories"]["tip"]
    received = datetime.fromisoformat(story["received_at"])
    with session_scope() as session:
        code = session.execute(
            select(Tip.tip_code)
            .join(Signal)
            .where(Signal.channel == "tip", Signal.source_id == story["tip_id"])
        ).scalar_one()
    say(f"{story['received_at']}: tip {story['tip_id']} about {story['address']}; the tipster keeps {code}")
    say(f"bridgehead tips verify {code} --by {story['officer_code']} --outcome {story['outcome']}")
    with session_scope() as session:
        verify_tip(session, code, story["officer_code"], story["outcome"], at=received + timedelta(days=2))
    period = received.strftime("%Y-%m")
    say(f"bridgehead rewards run --period {period}   (it pauses for a person's approval)")
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(rewards(period=period)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while True:
        try:
            approve_run(period, "刘所长", "approve_all", [], [], "月度奖惩已核对")
            break
        except LookupError:
            if time.monotonic() > deadline or not worker.is_alive():
                raise
            time.sleep(0.5)
    say(f"bridgehead rewards approve --period {period} --by 刘所长 --all --reason 月度奖惩已核对")
    worker.join()
    with session_scope() as session:
        board = sorted(leaderboard(session, period), key=lambda r: -r["points"])[:5]
        paid = [r for r in payouts(session, period) if r["tip"] == code]
    columns = ("station", "officer", "officer_code", "points", "from", "status")
    emit([{k: r[k] for k in columns} for r in board], "table", f"Top officers, {period}")
    emit(paid, "table", "The planted tip's reward (code and amount only)")
    say(f"bridgehead tips status {code}")
    tips_status(code)


def _story_risk(data: Path, channel: str, source_id: str) -> int:
    from bridgehead.db import session_scope
    from models import Signal

    with session_scope() as session:
        return int(
            session.execute(
                select(Signal.risk_id).where(Signal.channel == channel, Signal.source_id == source_id)
            ).scalar_one()
        )


def show_feud_story(data: Path, since: date) -> None:
    """The feud under the product: followed up on its cadence, not settled until the autumn's calm
    visits, when the evidence rule takes it down step by step."""
    from bridgehead.db import session_scope
    from models import FollowUp, RiskLevelChange, SupervisionNotice

    story = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["stories"]["neighbour_feud"]
    risk_id = _story_risk(data, "call", story["call_ids"][0])
    with session_scope() as session:
        done = session.execute(
            select(FollowUp.done_at, FollowUp.due_on, FollowUp.calm).where(
                FollowUp.risk_id == risk_id, FollowUp.status == "done", FollowUp.due_on >= since
            )
        ).all()
        notices = session.execute(
            select(func.count())
            .select_from(SupervisionNotice)
            .join(FollowUp, FollowUp.id == SupervisionNotice.follow_up_id)
            .where(FollowUp.risk_id == risk_id)
        ).scalar_one()
        changes = (
            session.execute(
                select(RiskLevelChange).where(RiskLevelChange.risk_id == risk_id).order_by(RiskLevelChange.id)
            )
            .scalars()
            .all()
        )
        status = session.execute(select(Risk.status).where(Risk.id == risk_id)).scalar_one()
    on_time = sum(local(at)[:10] <= str(due) for at, due, _ in done)
    say(
        f"The 刘/曹 feud (risk {risk_id}) since go-live: {len(done)} follow-up visits by its officer "
        f"({on_time} on time, {sum(bool(c) for *_, c in done)} calm), {notices} supervision notices; "
        f"now {status}"
    )
    rows = [
        {"when": local(c.at), "change": f"{c.from_level or '—'} -> {c.to_level}", "cause": c.cause,
         "why": ", ".join(c.reasons[:3])}
        for c in changes
    ]  # fmt: skip
    emit(rows, "table", f"risk {risk_id}: every change of colour and every end, with its reasons")


def show_melon_field(data: Path) -> None:
    """The melon field: mediated on the spot, the return visit a week later, resolved."""
    from bridgehead.db import session_scope
    from models import RiskLevelChange

    story = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["stories"]["melon_field"]
    risk_id = _story_risk(data, "visit", story["visit_id"])
    with session_scope() as session:
        ends = session.execute(
            select(RiskLevelChange.at, RiskLevelChange.reasons)
            .where(RiskLevelChange.risk_id == risk_id, RiskLevelChange.cause == "end")
            .order_by(RiskLevelChange.id)
        ).all()
    steps = "; ".join(f"{local(at)[:10]} {reasons[0]}" for at, reasons in ends) or "none yet"
    say(f"The melon field (risk {risk_id}, {story['date']} at {story['address']}): {steps}")


def show_story_risk(data: Path) -> None:
    """The planted feud's risk: found by its first call, printed with its signals and level history."""
    from bridgehead.db import session_scope
    from deployments.register_cli import risks_show
    from models import Signal

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    first_call = manifest["stories"]["neighbour_feud"]["call_ids"][0]
    with session_scope() as session:
        risk_id = session.execute(
            select(Signal.risk_id).where(Signal.channel == "call", Signal.source_id == first_call)
        ).scalar_one()
    risks_show(risk_id)


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the demo's files and database go.", parser=output_folder)
    ] = Path("var/demo"),
    seed: SeedOption = 7,
    scale: Annotated[
        float,
        typer.Option(
            help="Volume of the four channels: 1 is the seed's city (the replay then takes about an hour).",
            parser=finite(0.001, MAX_SCALE),
        ),
    ] = 0.05,
    replay_days: Annotated[
        int,
        typer.Option(
            help="Days the city lives through the product, ending yesterday (365: the whole year).",
            min=1,
            max=365,
        ),
    ] = 120,
) -> None:
    """Run the cycle on a synthetic Baoji: generate, take in, respond, follow up, review, verify."""
    from bridgehead.settings import get_settings

    # The demo's runs, logs and artifacts go where `bridgehead serve` will look (var/prefect), so the
    # UI it starts afterwards shows them.
    os.environ.setdefault("PREFECT_HOME", str((get_settings().var_dir / "prefect").resolve()))

    with flow_server():
        run_demo(folder, seed=seed, scale=scale, replay_days=replay_days)
