"""Serving the flows (部署) from one process: the deployments of prefect.yaml, with their triggers.

`bridgehead serve` runs these with `prefect.serve`; a process worker runs the same deployments from
`prefect.yaml`. The quick response starts on the `bridgehead.incident.opened` event that intake
emits; the response watch runs every minute; the daily sweep at 06:00 local time, one at a time; the
weekly review on Mondays at 08:00 for the city and each district; the rewards on the 1st at 09:00 (local:
the jurisdiction's time zone, BRIDGEHEAD_TIMEZONE; prefect.yaml says Asia/Shanghai, edit it for another).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from prefect.events import DeploymentEventTrigger

from flows.quick_response import INCIDENT_OPENED
from models.common import ZONE

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


def incident_trigger() -> DeploymentEventTrigger:
    """Each incident event starts one quick-response run, for that incident."""
    return DeploymentEventTrigger(
        name="incident-opened",
        expect={INCIDENT_OPENED},
        match={"prefect.resource.id": "bridgehead.incident.*"},
        parameters={"incident_code": "{{ event.payload.incident_code }}"},
    )


def deployments() -> dict[str, RunnerDeployment]:
    """Every served deployment by name (the same names as in prefect.yaml)."""
    from prefect.client.schemas.schedules import CronSchedule

    from flows.daily_sweep import daily_sweep, inbox_intake
    from flows.follow_up import follow_up_sweep
    from flows.intake import intake
    from flows.jurisdiction import jurisdiction_refresh
    from flows.quick_response import quick_response, response_watch, unit_status
    from flows.review import review, weekly_review
    from flows.rewards import rewards

    served = {
        "quick-response": quick_response.to_deployment(
            name="quick-response", triggers=[incident_trigger()], description="快反: started by each incident"
        ),
        "response-watch": response_watch.to_deployment(
            name="response-watch", interval=60, description="1-3-5 targets judged every minute"
        ),
        "intake": intake.to_deployment(
            name="intake",
            parameters={"channel": "call", "files": []},
            description="线索汇聚: files of one channel, by hand (channel, files)",
        ),
        "inbox-intake": inbox_intake.to_deployment(
            name="inbox-intake", interval=600, description="线索汇聚: the inbox's new files, every 10 minutes"
        ),
        "daily-sweep": daily_sweep.to_deployment(
            name="daily-sweep",
            schedules=[CronSchedule(cron="0 6 * * *", timezone=ZONE)],
            concurrency_limit=1,
            description="每日督促: inbox, catch-up, follow-ups, supervision",
        ),
        "follow-up-sweep": follow_up_sweep.to_deployment(
            name="follow-up-sweep", concurrency_limit=1, description="A day or a range of days, by hand"
        ),
        "unit-status": unit_status.to_deployment(
            name="unit-status", parameters={"files": []}, description="Unit status feeds, by hand"
        ),
        "review": review.to_deployment(
            name="review",
            parameters={"scope": "city"},
            description="复盘问效: a scope and a period, by hand (scope, period, language)",
        ),
        "weekly-review": weekly_review.to_deployment(
            name="weekly-review",
            schedules=[CronSchedule(cron="0 8 * * 1", timezone=ZONE)],
            description="Mondays 08:00: last week's review of the city and of each district",
        ),
        "rewards": rewards.to_deployment(
            name="rewards",
            schedules=[CronSchedule(cron="0 9 1 * *", timezone=ZONE)],
            description="奖励激励: last month's points, tip rewards and accountability, approved by a person",
        ),
        "jurisdiction-refresh": jurisdiction_refresh.to_deployment(
            name="jurisdiction-refresh", parameters={"folder": "var/data"}
        ),
    }
    # to_deployment is typed sync-or-async (a coroutine under an event loop); called here, it is sync
    return cast("dict[str, RunnerDeployment]", served)


def serve(only: list[str] | None = None) -> None:
    """Serve the named deployments (all by default) until interrupted."""
    from prefect import serve as prefect_serve

    available = deployments()
    unknown = sorted(set(only or []) - set(available))
    if unknown:
        raise ValueError(f"no deployment named {', '.join(unknown)}; there are {', '.join(available)}")
    prefect_serve(*(d for name, d in available.items() if not only or name in only))
