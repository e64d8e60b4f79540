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
from deployments.console import console, coverage_verdict, print_coverage, print_load, say

CHANNELS = ("call", "visit", "analysis", "tip", "case")


def run_demo(folder: Path, seed: int = 7, scale: float = 1.0) -> None:
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
        console.rule("7. The audit trail")
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
