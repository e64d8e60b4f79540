"""Reading a flow run back from the test Prefect server: its task runs by name; shared by the flow tests
that check how many task runs a flow makes."""

from __future__ import annotations

import time


def task_runs(flow_run_id: object, expected: int = 6, wait_s: float = 20) -> list[str]:
    """The flow run's task runs, by name; the server records them from events, so give it a moment."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + wait_s
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(runs) >= expected or time.monotonic() > deadline:
                return sorted(r.name.rsplit("-", 1)[0] for r in runs)
            time.sleep(0.5)
