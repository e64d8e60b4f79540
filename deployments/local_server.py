"""A Prefect server of our own, started and stopped by process id (for `serve`, tests, benchmarks).

`prefect server start` runs the API, the UI and the services that fire triggers in one process;
it is healthy in about 5 s. Stopping sends SIGTERM to that process, then SIGKILL if it lingers.

On Linux the server is also told to go when the process that started it dies (a parent-death
signal, `prctl(PR_SET_PDEATHSIG, SIGTERM)`), so a command killed with SIGKILL leaves no server
behind. The signal follows the *thread* that started the server: start it from the main thread.

`flow_server()` is what commands that run flows use instead of Prefect's own temporary server
(which Prefect starts without a parent-death signal, so a killed command left it running).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prefect_executable() -> str:
    return str(Path(sys.executable).with_name("prefect"))


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child between fork and exec: receive SIGTERM when the parent (thread) dies. Linux only."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        return
    if os.getppid() == 1:  # the parent died before the prctl: go now
        os.kill(os.getpid(), signal.SIGTERM)


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 15) -> None:
    """SIGTERM by pid, wait, then SIGKILL: nothing we started is left running."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_until_healthy(
    api_url: str, timeout_s: float = 90, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with status {proc.returncode}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"no healthy Prefect server at {api_url} after {timeout_s:.0f} s")


class LocalServer:
    """`with LocalServer(home) as server:` a Prefect server on 127.0.0.1 with its own home and log."""

    def __init__(
        self,
        home: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        *,
        tied_to_parent: bool = True,
        own_session: bool = False,
    ) -> None:
        self.home = home
        self.own_session = (
            own_session  # out of the terminal's process group: Ctrl-C is the parent's to handle
        )
        self.tied_to_parent = tied_to_parent and sys.platform.startswith("linux")
        self.port = port or free_port()
        self.env = {**os.environ, **(env or {}), "PREFECT_HOME": str(home)}
        self.env.pop("PREFECT_API_URL", None)
        self.env["PREFECT_SERVER_UI_API_URL"] = self.api_url  # the UI calls this port, not the default 4200
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home / "server.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout_s: float = 90) -> LocalServer:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent if self.tied_to_parent else None,
                start_new_session=self.own_session,
            )
        wait_until_healthy(self.api_url, timeout_s, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def api_url_in_use() -> str | None:
    """The Prefect API this process's flow runs report to, if one is set (env or Prefect settings)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


_temporary: LocalServer | None = None


def temporary_server_running() -> bool:
    return _temporary is not None


@contextmanager
def flow_server() -> Iterator[str]:
    """Make sure flow runs have a Prefect API: the one set, or a temporary server of our own.

    The temporary server keeps Prefect's home (PREFECT_HOME: where the runs would have gone anyway),
    dies with this process even on SIGKILL, and is stopped at exit (atexit, which also runs on
    SIGTERM: the root command turns it into SystemExit). It is stopped at exit rather than on leaving
    this block so Prefect's log and event workers, which flush at exit, still find it; and it stays
    the API for the rest of the process (`PREFECT_API_URL` in the environment, and Prefect's global
    settings refreshed so its background threads see it too).
    """
    global _temporary
    existing = api_url_in_use()
    if existing:
        yield existing
        return
    import atexit

    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_HOME

    server = LocalServer(Path(PREFECT_HOME.value()).expanduser(), env={"PREFECT_SERVER_UI_ENABLED": "false"})
    atexit.register(server.stop)  # registered before Prefect's own exit hooks, so it runs after them
    _temporary = server
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    refresh_global_settings_context()
    yield server.api_url
