"""A command that runs flows without PREFECT_API_URL starts a temporary Prefect server: killing the
command (SIGKILL) must not leave it running, and SIGTERM must end the command promptly and cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.server, pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc/<pid>/task/*/children."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (PID 1 in a container may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prefect")


@pytest.fixture
def sweeping(tmp_path: Path, prefect_home: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`bridgehead sweep` over two years of an empty register (minutes of work), its flow running."""
    from bridgehead.db import make_engine
    from bridgehead.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'bridgehead.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BRIDGEHEAD_"))}
    env |= {
        "BRIDGEHEAD_DATABASE_URL": url,
        "BRIDGEHEAD_VAR_DIR": str(tmp_path / "var"),
        "PREFECT_HOME": str(prefect_home),
    }
    log = tmp_path / "sweep.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [BRIDGEHEAD, "sweep", "--from", "2023-01-01", "--to", "2024-12-31"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Task run" not in log.read_text(errors="replace"):  # the server is up, a flow is running
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def wait_gone(pids: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_sigkill_leaves_no_server_behind(sweeping: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, log = sweeping
    started = descendants(proc.pid)
    assert started, "the command should have started a temporary server"
    proc.kill()
    proc.wait(10)
    assert wait_gone(started, 15) == set(), log.read_text(errors="replace")[-2000:]


def test_sigterm_ends_the_command_promptly(sweeping: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, log = sweeping
    started = descendants(proc.pid)
    assert started
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(20)
    took = time.monotonic() - sent
    out = log.read_text(errors="replace")
    assert code != 0 and took < 20, (code, took)
    assert "Traceback" not in out and "Task run is not set" not in out, out[-3000:]
    assert wait_gone(started, 10) == set()


def test_an_interrupt_a_library_wrapped_ends_the_command_in_one_line(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM raised inside a library's cleanup reaches the command as another error ("This transaction
    is closed"): the command still ends as told, with the signal's exit status and one line, no traceback."""
    import typer
    from prefect.exceptions import TerminationSignal

    from deployments.cli_checks import BridgeheadGroup

    app = typer.Typer(cls=BridgeheadGroup)

    @app.command()
    def work() -> None:
        try:
            raise TerminationSignal(signal=signal.SIGTERM)
        except BaseException:
            raise RuntimeError("This transaction is closed")  # noqa: B904  # as SQLAlchemy's cleanup does

    @app.command()
    def other() -> None: ...

    with pytest.raises(SystemExit) as ended:
        app(["work"], prog_name="bridgehead")
    assert ended.value.code == 128 + signal.SIGTERM
    err = capfd.readouterr().err
    assert err == "bridgehead: stopped\n", err
