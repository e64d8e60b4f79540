"""How `bridgehead` refuses what it cannot use: one line, a non-zero exit, never a traceback.

- Arguments are checked by typer's own machinery where it has one (`exists=`, `dir_okay=`, `min=`,
  `max=`) and by the small parsers and callbacks here where it has not (a FIFO is not a regular file,
  `nan` is a float, 2026-02-30 is a string).
- `BridgeheadGroup` (the root command) prints any usage error as one line naming the argument,
  translates database errors (no tables, unreachable, not a URL) into one line saying what to do,
  and turns SIGTERM into a prompt, clean exit (so the temporary Prefect server is stopped).
- `BridgeheadCommand` (every command that reads or writes the register) checks the database is
  there *before* the command runs: a mistyped SQLite path is refused, not created empty, and a
  flow never starts against a database without tables.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from typer._click.exceptions import ClickException  # typer's own (vendored) click
from typer.core import TyperCommand, TyperGroup

# Days and times the register can hold: well inside what Python's dates and both databases take,
# so a windows' arithmetic (last year, the cadence, the 1-3-5 targets) never overflows.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2099, 12, 31)
# Row ids are 64-bit integers in both databases (SQLite refuses a larger Python int with OverflowError).
MAX_ID = 2**63 - 1
# LIMIT takes a 32-bit integer everywhere we run.
MAX_LIMIT = 2**31 - 1

HINT_URL = "set BRIDGEHEAD_DATABASE_URL or --database-url"


class DatabaseProblem(ClickException):
    """The configured database cannot be used: printed as `bridgehead: <message>`, exit 1."""

    exit_code = 1


# --- argument checks ---------------------------------------------------------------------------------


def regular_files(value: Any) -> Any:
    """After typer's `exists=True, dir_okay=False, readable=True`: refuse FIFOs, devices, sockets.

    Reading a FIFO blocks until someone writes to it; a command given one would hang.
    """
    for path in value if isinstance(value, list | tuple) else [value]:
        if path is None:
            continue
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise typer.BadParameter(f"{str(path)!r} is not a regular file (a pipe or a device): give a file")
    return value


def input_file(help: str) -> Any:
    """An argument naming files the command reads: typer checks each exists, is not a folder and can
    be read; `regular_files` refuses a FIFO or a device (reading one would wait for a writer forever)."""
    return typer.Argument(help=help, exists=True, dir_okay=False, readable=True, callback=regular_files)


def existing_folder(value: Path | None) -> Path | None:
    """After typer's `exists=True, file_okay=False`: a folder, not a FIFO or a device."""
    if value is not None and not value.is_dir():
        raise typer.BadParameter(f"{str(value)!r} is not a folder: give a folder")
    return value


def output_folder(value: str | Path) -> Path:
    """A folder to write into: an empty path or an existing file is refused (typer reads '' as '.').
    The default comes in as a Path, what was typed as a string."""
    if not str(value).strip():
        raise ValueError("an empty path: give a folder to write into, e.g. var/data")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{value!r} exists and is not a folder: give a folder to write into")
    return path


def finite(low: float, high: float) -> Callable[[str], float]:
    """A float parser: typer's `min=`/`max=` let `nan` through with a misleading message, so not them."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and low <= number <= high):
            raise ValueError(f"{value!r}: give a number from {low:g} to {high:g}")
        return number

    return parse


def day(value: str | date | None) -> date | None:
    """A day as YYYY-MM-DD, between FIRST_DAY and LAST_DAY (2026-02-30 and 0001-01-01 are refused)."""
    if value is None or isinstance(value, date):
        return value
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a day: give YYYY-MM-DD, e.g. 2026-11-29") from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValueError(f"{value!r}: give a day from {FIRST_DAY} to {LAST_DAY}")
    return parsed


def instant(value: str, tz: Any) -> datetime:
    """An ISO 8601 time (no offset: `tz`) within the days above, as a `ValueError` with the fix."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time: give e.g. 2026-08-07T20:15:40") from None
    if not FIRST_DAY <= at.date() <= LAST_DAY:
        raise ValueError(f"{value!r}: give a time from {FIRST_DAY} to {LAST_DAY}")
    return at if at.tzinfo else at.replace(tzinfo=tz)


def id_list(value: str | None) -> str | None:
    """`--approve 12,15`: positive ids, comma-separated (checked here; read with `ids`)."""
    if value is not None:
        try:
            found = ids(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r}: give ids separated by commas, e.g. 12,15") from None
        if any(not 1 <= i <= MAX_ID for i in found):
            raise typer.BadParameter(f"{value!r}: ids are whole numbers from 1 to {MAX_ID}")
    return value


def ids(text: str | None) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x] if text else []


# --- the database --------------------------------------------------------------------------------------


def database_label(url: str | None = None) -> str:
    """The configured URL as it may be printed: never with its password."""
    from sqlalchemy.engine import make_url

    from bridgehead.settings import get_settings

    text = url or get_settings().resolved_database_url
    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:
        return "(a URL that is not a database URL)"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(part.strip() for part in text.splitlines() if part.strip())[:300]


def describe_database_error(exc: BaseException) -> str | None:
    """One line for a database error a person can fix (no tables, unreachable, bad URL); else None."""
    from sqlalchemy import exc as sa

    where = database_label()
    if isinstance(exc, sa.ArgumentError | sa.NoSuchModuleError):
        return f"the database URL {where} is not one Bridgehead can use ({_first_line(exc)}): {HINT_URL}"
    if not isinstance(exc, sa.DBAPIError):
        return None
    orig = getattr(exc, "orig", None)
    kind = type(orig).__name__
    text = _first_line(exc).lower()
    if "no such table" in text or kind == "UndefinedTable":
        return f"the database at {where} has no Bridgehead tables: run 'bridgehead init' (or {HINT_URL})"
    if "no such column" in text or kind == "UndefinedColumn":
        return f"the database at {where} has an older schema: run 'bridgehead init' to upgrade it"
    if isinstance(exc, sa.OperationalError | sa.InterfaceError) and (
        exc.connection_invalidated or _is_connect_failure(text)
    ):
        return f"cannot reach the database at {where}: {_first_line(exc)}"
    if isinstance(exc, sa.DataError) or "out of range" in text:
        return f"a value is out of range for the database at {where}: {_first_line(exc)}"
    return None


def _is_connect_failure(text: str) -> bool:
    return any(
        words in text
        for words in (
            "connection",
            "could not connect",
            "unable to open database file",
            "could not translate host name",
            "password authentication failed",
            "does not exist",  # database "x" does not exist
            "timeout",
            "is not a database",
        )
    )


def require_database() -> None:
    """Refuse, in one line, a database this command cannot use — before the command runs.

    A SQLite file that does not exist is not created (a mistyped path would leave an empty database
    behind); a database without Bridgehead's tables is refused with the command that makes them.
    """
    from sqlalchemy import exc as sa
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from bridgehead.settings import get_settings

    url = get_settings().resolved_database_url
    try:
        parsed = make_url(url)
    except sa.ArgumentError:
        raise DatabaseProblem(f"{url!r} is not a database URL: {HINT_URL}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            raise DatabaseProblem(
                f"there is no database at {path}: run 'bridgehead init' to create it (or {HINT_URL})"
            )
        if not path.is_file():
            raise DatabaseProblem(f"{path} is not a database file: {HINT_URL}")
    from bridgehead.db import get_engine

    try:
        with get_engine().connect() as conn:
            ready = inspect(conn).has_table("risk")
    except (sa.DBAPIError, sa.ArgumentError, sa.NoSuchModuleError) as exc:
        fallback = f"cannot use the database at {database_label()}: {_first_line(exc)}"
        raise DatabaseProblem(describe_database_error(exc) or fallback) from None
    except ModuleNotFoundError as exc:  # a dialect whose driver is not installed
        raise DatabaseProblem(
            f"cannot use the database at {database_label()} ({exc}): Bridgehead runs on SQLite or "
            f"PostgreSQL; {HINT_URL}"
        ) from None
    if not ready:
        raise DatabaseProblem(
            f"the database at {database_label()} has no Bridgehead tables: run 'bridgehead init' "
            f"(or {HINT_URL})"
        )


# --- the command classes --------------------------------------------------------------------------------

# Commands that do not use Bridgehead's database, or make it: no check before them.
NO_DATABASE = {
    "init",
    "generate",
    "demo",
    "simulate",
    "serve",
    "automations apply",
    "jurisdiction from-profile",
    "profile check",
    "rewards approve",
}


class BridgeheadCommand(TyperCommand):
    """A command that needs the register: the database is checked once its arguments are."""

    def invoke(self, ctx: Any) -> Any:
        names, at = [], ctx
        while at.parent is not None:  # the names below the root, however the program was started
            names.append(at.info_name)
            at = at.parent
        if " ".join(reversed(names)) not in NO_DATABASE:
            require_database()
        return super().invoke(ctx)


def _one_line(text: str) -> str:
    text = text.replace("Value error, ", "")
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _sigterm(signum: int, _frame: Any) -> None:
    # `finally` blocks and atexit handlers run: the temporary Prefect server is stopped, the
    # session rolled back; Prefect marks a flow run it was in the middle of as crashed.
    _TERMINATING.set()
    raise SystemExit(128 + signum)


_TERMINATING = threading.Event()
_WAKEUP: list[int] = []  # the write end of the pipe the watcher reads, once per process
RESEND_AFTER_S = 5


def _watch_sigterm() -> int:
    """Make SIGTERM stick. Python runs a signal handler between any two bytecodes of the main thread, and
    an exception raised by one that lands inside a weakref callback or finalizer is printed and dropped
    ("Exception ignored in ... TerminationSignal"): a sweep ran on for 40 s after SIGTERM. A thread sees
    every signal through the wakeup fd; if the command has not begun to end (our handler sets
    `_TERMINATING`, and Prefect hands the signal back to it after its own) it sends SIGTERM again.
    Returns the wakeup fd it replaced, to be put back."""
    if not _WAKEUP:
        read, write = os.pipe()
        os.set_blocking(write, False)
        _WAKEUP.append(write)

        def watch() -> None:
            while signal.SIGTERM not in os.read(read, 64):
                pass
            for _ in range(5):
                if _TERMINATING.wait(RESEND_AFTER_S):
                    return
                os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="sigterm-watch", daemon=True).start()
    return signal.set_wakeup_fd(_WAKEUP[0], warn_on_full_buffer=False)


class BridgeheadGroup(TyperGroup):
    """The root `bridgehead` command: errors a person can fix come out as one line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from typer._click import exceptions as click_exc

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        previous = _install_sigterm()
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_exc.NoArgsIsHelpError as exc:  # the help is printed already
            sys.exit(exc.exit_code)
        except DatabaseProblem as exc:
            _err(f"bridgehead: {_one_line(exc.format_message())}")
            sys.exit(exc.exit_code)
        except click_exc.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "bridgehead"
            help_hint = f" (see '{where} --help')" if isinstance(exc, click_exc.UsageError) else ""
            _err(f"{where}: {_one_line(exc.format_message())}{help_hint}")
            sys.exit(exc.exit_code)
        except typer.Abort:
            _err("bridgehead: aborted")
            sys.exit(1)
        except Exception as exc:
            from bridgehead.db import interrupt_behind

            if (interrupt := interrupt_behind(exc)) is not None:  # a library's cleanup wrapped it
                _err("bridgehead: stopped")
                sys.exit(_interrupt_code(interrupt))
            message = describe_database_error(exc)
            if message is None:
                raise
            _err(f"bridgehead: {message}")
            sys.exit(1)
        finally:
            _restore_sigterm(previous)
        sys.exit(rv if isinstance(rv, int) else 0)


def _interrupt_code(interrupt: BaseException) -> int:
    """The exit status a shell expects of a command a signal ended (128 + its number)."""
    if isinstance(interrupt, SystemExit) and isinstance(interrupt.code, int):
        return interrupt.code
    number = getattr(interrupt, "signal", None)  # Prefect's TerminationSignal carries its signal
    return 128 + (number if isinstance(number, int) else signal.SIGINT)


def _install_sigterm() -> tuple[Any, int] | None:
    """Our SIGTERM handler and its watcher; what they replaced (handler, wakeup fd), or None off the
    main thread, where signals cannot be handled."""
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:
        return None
    return previous, _watch_sigterm()


def _restore_sigterm(previous: tuple[Any, int] | None) -> None:
    if previous is None:
        return
    handler, wakeup_fd = previous
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, handler)
        signal.set_wakeup_fd(wakeup_fd)


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def use_command_classes(app: typer.Typer) -> None:
    """Every command of `app` and its sub-apps checks the database first (unless in NO_DATABASE)."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = BridgeheadCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_command_classes(group.typer_instance)
