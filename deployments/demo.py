"""`bridgehead demo`: the cycle on a synthetic Baoji, step by step, on a fresh SQLite database.

Each step calls the same commands a user would, so the demo shows the product, not a script.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from deployments import cli
from deployments.console import console, coverage_verdict, emit, local, print_coverage, print_load, say
from models.risk import Risk

CHANNELS = ("call", "visit", "analysis", "tip", "case")
REPLAY_DAYS = 365  # the generated year, day by day (about four minutes); `--replay-days 56` is quicker


def run_demo(folder: Path, seed: int = 7, scale: float = 1.0, replay_days: int = REPLAY_DAYS) -> None:
    from bridgehead import audit
    from bridgehead.db import get_engine, session_scope
    from models.contracts import INPUT_CONTRACTS
    from tasks.jurisdiction import coverage, load_jurisdiction

    data, db_file = folder / "data", folder / "bridgehead.db"
    console.rule("1. A synthetic Baoji (宝鸡)")
    cli.generate(out=data, seed=seed, scale=scale, end=None)
    console.rule("2. A fresh database")
    for stale in folder.glob("bridgehead.db*"):
        stale.unlink()
    os.environ["BRIDGEHEAD_VAR_DIR"] = str(folder)
    cli.use_database(f"sqlite:///{db_file.as_posix()}")
    cli.init()
    try:
        console.rule("3. The jurisdiction (辖区底数), every record audited")
        with session_scope() as session:
            print_load(load_jurisdiction(session, data, actor=audit.current_actor("demo")))
        console.rule("4. Coverage (谁来防)")
        with session_scope() as session:
            print_coverage(coverage(session))
        console.rule("5. Intake (线索汇聚): a year of the four channels and the case register")
        for channel in CHANNELS:
            cli.run_intake(channel, [data / INPUT_CONTRACTS[channel].default_file])
        console.rule("6. The neighbour feud (邻里积怨) in 宝桥新村, as the register sees it")
        show_story_risk(data)
        console.rule("7. Quick response (快反处置): the units' year, then the lost child on 盛世广场")
        replay_lost_child(data)
        console.rule(f"8. Follow-up (跟进督促): {replay_days} days replayed through the daily sweep")
        replay_follow_up(data, replay_days)
        console.rule("9. Review (复盘问效): the last full week, then the year to date")
        review_city(data)
        console.rule("10. Rewards (奖励激励): a tip verified, the month approved from the command line")
        month_rewards(data)
        console.rule("11. The audit trail")
        cli.audit_verify()
        url = f"sqlite:///{db_file.as_posix()}"
        say(f"Explore: .venv/bin/bridgehead --database-url {url} risks list --level red")
        console.rule("Summary")
        with session_scope() as session:
            summarise(session)
    finally:
        get_engine().dispose()


def summarise(session: Session) -> None:
    """The register in three lines, and the coverage verdict last."""
    from models import QuarantinedRow, Risk, Signal
    from tasks.jurisdiction import coverage

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
    say(coverage_verdict(coverage(session)))


def replay_lost_child(data: Path) -> None:
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
    incidents.incidents_update([data / "unit_status.csv"])
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


def replay_follow_up(data: Path, replay_days: int = REPLAY_DAYS) -> None:
    """Sweep day by day up to the data's last day, then print the feud's follow-up timeline.

    The whole generated year by default (a swept day takes well under a second here), the last day as
    the morning's daily sweep. The first swept day assigns a visit to every open risk nobody has
    visited (due that day), so the first weeks show the backlog being chased; the feud is chased with
    notices while orange and its officer visits only every few weeks, until six calm visits in the
    last seven weeks take it to yellow, blue and resolved by the evidence rule.
    """
    from datetime import date, timedelta

    from flows.daily_sweep import daily_sweep
    from flows.follow_up import follow_up_sweep

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    last = date.fromisoformat(manifest["end"]) - timedelta(days=1)
    first = last - timedelta(days=replay_days - 1)
    days = []
    if first < last:
        say(f"bridgehead sweep --from {first} --to {last - timedelta(days=1)}")
        days = follow_up_sweep(first, last - timedelta(days=1))
    say(f"bridgehead sweep --date {last}   (the morning's daily sweep: inbox, then the day)")
    days += daily_sweep(last)["days"]
    rows = [
        {"day": d["day"], **d["totals"]}
        for i, d in enumerate(days)
        if i == 0 or i == len(days) - 1 or date.fromisoformat(d["day"]).weekday() == 0
    ]
    emit(rows, "table", f"The sweep, {first} to {last} (first day, Mondays, last day)")
    worst = sorted(days[-1]["stations"], key=lambda r: -r["late"])[:5]
    emit(worst, "table", f"Stations with the most late follow-ups on {last}")
    show_feud_timeline(data, first)


def review_city(data: Path) -> None:
    """The city's last full week (the Monday review), then its year to date, as a user runs them."""
    from datetime import date, timedelta

    from deployments.review_cli import print_review
    from flows.review import review
    from tasks.review_period import last_full_week

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
    from tasks.rewards_report import leaderboard, payouts
    from tasks.tips import verify_tip

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


def show_feud_timeline(data: Path, since: object) -> None:
    """The feud's follow-ups, visits, notices and colour changes, in order."""
    from bridgehead.db import session_scope
    from models import FollowUp, RiskLevelChange, Signal, SupervisionNotice

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    first_call = manifest["stories"]["neighbour_feud"]["call_ids"][0]
    rows: list[tuple[str, str]] = []
    with session_scope() as session:
        risk_id = session.execute(
            select(Signal.risk_id).where(Signal.channel == "call", Signal.source_id == first_call)
        ).scalar_one()
        for f in session.execute(
            select(FollowUp)
            .where(FollowUp.risk_id == risk_id, FollowUp.due_on >= since)
            .order_by(FollowUp.id)
        ).scalars():
            if f.status == "done":
                calm = "calm" if f.calm else "not calm"
                rows.append((local(f.done_at), f"visit ({calm}) for the follow-up due {f.due_on}"))
            else:
                rows.append((str(f.due_on), f"follow-up due ({f.why}): {f.status}"))
        for n in session.execute(
            select(SupervisionNotice)
            .join(FollowUp, FollowUp.id == SupervisionNotice.follow_up_id)
            .where(FollowUp.risk_id == risk_id, SupervisionNotice.issued_on >= since)
        ).scalars():
            rows.append(
                (
                    str(n.issued_on),
                    f"notice to the {n.level} {n.recipient_officer_code}: {n.days_late} day(s) late",
                )
            )
        changes = list(
            session.execute(
                select(RiskLevelChange).where(RiskLevelChange.risk_id == risk_id).order_by(RiskLevelChange.id)
            ).scalars()
        )
        status = session.execute(select(Risk.status).where(Risk.id == risk_id)).scalar_one()
    graded = [c for c in changes if c.cause != "evidence"]
    for c in changes:
        if c.cause == "evidence":
            to = "resolved" if "evidence.resolved" in c.reasons else c.to_level
            rows.append(
                (local(c.at), f"{c.from_level} -> {to} (evidence rule: two calm follow-ups in a row)")
            )
    start = graded[-1].to_level if graded else "?"
    say(f"The 刘/曹 feud (risk {risk_id}) was graded {start} at intake; the sweep since {since}:")
    rows.sort(key=lambda r: (r[0], "->" in r[1]))  # a visit before the change it caused
    emit([{"when": d, "what": w} for d, w in rows], "table", f"risk {risk_id}: now {status}")


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
