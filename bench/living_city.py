"""Benchmark: the living city (issue 14) at a scale of your choice, with its counterfactual.

Runs `bridgehead simulate --counterfactual` in a process of its own (the generated city played day by
day against the product, then the same city with nobody working the lists), then the city's review of
the year to date on the simulated register, and prints each figure the issue asks for beside its target:
on time, open household risks per community officer, red share, 化解率, accountability on the negligent
officers, the last month's leaderboard, the counterfactual's differences and the seed's headline
(criminal cases filed −29.8%, telecom-fraud cases solved +44.66%, both real changes) over the
generated city's year (the 365 days to yesterday, as the generator counts it), with the calendar year to
date beside it for reference.

    .venv/bin/python bench/living_city.py --scale 1 --dir /tmp/city-live1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIDGEHEAD = [sys.executable, "-m", "deployments.cli"]
HEADLINE = {"cases_filed": -29.8, "telecom_fraud_solved": 44.66}


def run(args: list[str], env: dict[str, str], log: Path) -> float:
    """One command, its output kept in `log`; the seconds it took."""
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(args[2:])} failed ({done.returncode}): see {log}")
    return time.perf_counter() - started


def checks(
    out: dict[str, object], year: dict[str, object], ytd: dict[str, object]
) -> list[tuple[str, str, str, bool]]:
    """(figure, value, target, met) for every line of the issue's Done when that a run measures."""
    h = out["health"]
    a = out["accountability"]
    assert isinstance(h, dict) and isinstance(a, dict)

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}%"

    def at_least(v: float | None, floor: float) -> bool:
        return v is not None and v >= floor

    on_negligent = 100 * a["on_negligent"] / a["entries"] if a["entries"] else None
    rows = [
        ("follow-ups on time, last 8 weeks", pct(h["on_time_pct"]), "≥ 90%", at_least(h["on_time_pct"], 90)),
        (
            "open household risks per community officer",
            "—" if h["open_household_per_officer"] is None else f"{h['open_household_per_officer']:.1f}",
            "≤ 25",
            h["open_household_per_officer"] is not None and h["open_household_per_officer"] <= 25,
        ),
        (
            "red of open risks",
            pct(h["red_share_pct"]),
            "≤ 3%",
            h["red_share_pct"] is not None and h["red_share_pct"] <= 3,
        ),
        ("化解率", pct(h["settlement_rate_pct"]), "≥ 80%", at_least(h["settlement_rate_pct"], 80)),
        (
            "accountability entries on the negligent officers",
            pct(on_negligent),
            "≥ 80%",
            at_least(on_negligent, 80),
        ),
        (
            "negligent officers with an entry",
            f"{a['negligent_with_one']} of {a['negligent']}",
            "≥ 80%",
            bool(a["negligent"]) and a["negligent_with_one"] >= 0.8 * a["negligent"],
        ),
        (
            f"{h['month']}'s leaderboard above zero",
            pct(h["officers_above_zero_pct"]),
            "most",
            at_least(h["officers_above_zero_pct"], 50),
        ),
    ]
    for d in out.get("counterfactual", []):
        assert isinstance(d, dict)
        rows.append(
            (
                f"{d['figure']}: with the cycle / without",
                f"{d['with_cycle']} / {d['without']} (p={d['p_value']:.2g})",
                "fewer, real" if d["figure"] != "conversions_homicide" else "not more",
                d["with_cycle"] < d["without"] and bool(d["significant"])
                if d["figure"] != "conversions_homicide"
                else d["with_cycle"] <= d["without"],
            )
        )
    for label, review, target_of in (("the city's year", year, HEADLINE), ("calendar year to date", ytd, {})):
        figures = review["figures"]
        assert isinstance(figures, dict)
        for name in HEADLINE:
            f = figures[name]
            change = f["change_vs_last_year_pct"]
            shown = "—" if change is None else f"{change:+.2f}%"
            target = target_of.get(name)
            rows.append(
                (
                    f"{name}, {label} ({f['current']:,} / last year {f['last_year']:,})",
                    f"{shown}, {'real' if f['significant_vs_last_year'] else 'chance'}",
                    f"{target:+}%, real" if target is not None else "(shown)",
                    target is None
                    or (
                        change is not None
                        and round(change, 2) == target
                        and bool(f["significant_vs_last_year"])
                    ),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("var/bench-living-city"))
    parser.add_argument("--days", type=int, default=120, help="simulated days to yesterday (default 120)")
    args = parser.parse_args()
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    from datetime import timedelta

    from models.clock import today

    last = today() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)
    simulate = [
        *BRIDGEHEAD,
        "simulate",
        f"--from={first}",
        f"--to={last}",
        f"--dir={folder}",
        f"--seed={args.seed}",
        f"--scale={args.scale:g}",
        "--counterfactual",
    ]
    seconds = run(simulate, env, folder / "simulate.log")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = json.loads((folder / "health.json").read_text(encoding="utf-8"))

    def review(period: str, log: str) -> tuple[dict[str, object], float]:
        args = [
            *BRIDGEHEAD,
            f"--database-url=sqlite:///{(folder / 'bridgehead.db').as_posix()}",
            "review",
            "--scope=city",
            f"--period={period}",
            "--lang=en",
            "--format=json",
        ]
        took = run(args, {**env, "BRIDGEHEAD_VAR_DIR": str(folder)}, folder / log)
        return json.loads((folder / log).read_text(encoding="utf-8")), took

    year, review_seconds = review(f"365d:{last}", "review-year.json")  # the generated city's year
    ytd, _ = review(f"ytd:{last}", "review-ytd.json")
    print(
        f"living city: seed {args.seed}, scale {args.scale:g}, {args.days} days {first} to {last}; "
        f"simulate with its counterfactual {seconds / 60:.1f} min (peak memory {peak:,.0f} MiB), "
        f"review of the year {review_seconds:.1f} s"
    )
    print("| figure | value | target | met |")
    print("| --- | --- | --- | --- |")
    for figure, value, target, met in checks(out, year, ytd):
        print(f"| {figure} | {value} | {target} | {'yes' if met else 'NO'} |")


if __name__ == "__main__":
    main()
