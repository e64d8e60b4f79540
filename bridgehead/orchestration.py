"""How Bridgehead's work becomes Prefect tasks: set-based, uncached, retried only when transient.

Every task here writes to the database, so none may be cached (a cached write silently never
happens), and only errors that a retry can cure — a locked SQLite file, a dropped connection —
are retried, with exponential backoff and jitter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import DBAPIError, OperationalError

R = TypeVar("R")

TRANSIENT_MESSAGES = (
    "database is locked",
    "database is busy",
    "deadlock detected",
    "could not connect",
    "connection",
)


def is_transient(exc: BaseException) -> bool:
    """A locked database or a lost connection: worth another try. Anything else is a real error."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        return any(m in text for m in TRANSIENT_MESSAGES)
    return False


def retry_if_transient(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by result()
        return is_transient(exc)
    return False


def db_task(fn: Callable[..., R], *, name: str | None = None, retries: int = 4) -> Task[..., R]:
    """Wrap a set-based function as a Prefect task that may write to the database."""
    return task(
        name=name or fn.__name__.replace("_", "-"),
        cache_policy=NO_CACHE,
        retries=retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=0.5),
        retry_jitter_factor=0.5,
        retry_condition_fn=retry_if_transient,
    )(fn)


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow or task run's logger (its lines show in the Prefect UI), or a plain one outside a run:
    the same stage code runs in a flow and, for a replay, without one."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("bridgehead")
