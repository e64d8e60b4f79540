"""The deployments are declared twice — `prefect.yaml` for a worker, `deployments/serve.py` for
`bridgehead serve` — and must say the same: names, entrypoints, parameters, schedules, triggers and
concurrency (in the spirit of Dagster's `test_defs.py`). Descriptions may be worded apart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from deployments.serve import deployments
from models.common import ZONE

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def _declared() -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]}


def _schedules(served: Any) -> list[dict[str, Any]]:
    out = []
    for s in served.schedules:
        schedule = s.schedule
        if getattr(schedule, "cron", None):
            out.append({"cron": schedule.cron, "timezone": schedule.timezone})
        else:
            out.append({"interval": int(schedule.interval / timedelta(seconds=1))})
    return out


def _triggers(served: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "expect": sorted(t.expect),
            "match": dict(t.match.root),
            "parameters": t.parameters,
        }
        for t in served.triggers
    ]


def test_serve_and_prefect_yaml_declare_the_same_deployments() -> None:
    declared, served = _declared(), deployments()
    assert sorted(declared) == sorted(served)
    for name, dep in served.items():
        yaml_dep = declared[name]
        assert dep.entrypoint == yaml_dep["entrypoint"], name
        assert dep.parameters == yaml_dep.get("parameters", {}), name
        assert dep.concurrency_limit == yaml_dep.get("concurrency_limit"), name
        assert _schedules(dep) == yaml_dep.get("schedules", []), name
        assert _triggers(dep) == [
            {
                "name": t["name"],
                "expect": sorted(t["expect"]),
                "match": t["match"],
                "parameters": t["parameters"],
            }
            for t in yaml_dep.get("triggers", [])
        ], name


def test_served_schedules_keep_the_jurisdictions_time_zone() -> None:
    for dep in deployments().values():
        for s in dep.schedules:
            if getattr(s.schedule, "cron", None):
                assert s.schedule.timezone == ZONE
