"""A real local Prefect server for the deployment tests, started once per session.

Test modules import the fixtures (`from prefect_server import prefect_api, prefect_server`). This is
not a conftest.py on purpose: tests/ has no __init__.py, so a second module named `conftest` would
replace tests/conftest.py in sys.modules and break the `from conftest import ...` of other tests,
and an __init__.py here would make this folder a package named `prefect`.

`prefect server start` runs as a child process on a free port with a temporary PREFECT_HOME
(first start ~11 s: fresh SQLite plus migrations), the port set through PREFECT_SERVER_API_PORT
(not --port, which leaves the UI pointing at 4200). Tests reach it through `prefect_api`, which
points PREFECT_API_URL at it with `temporary_settings`; nothing mutates os.environ. If the server
cannot start the tests fail: they never skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment minus any PREFECT_* of the developer's shell, plus a private PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


def wait_healthy(api: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                if response.read().strip() == b"true":
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"Prefect server not healthy (rc={proc.poll()}); log tail:\n{log.read_text('utf-8', 'replace')[-3000:]}")


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 15) -> None:
    """SIGTERM the child's own process group (started with start_new_session), SIGKILL after `grace_s`."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `prefect server start` on 127.0.0.1 and a free port; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    log = home / "server.log"
    env = prefect_env(home, PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(api, proc, log)
        yield api
    finally:
        stop_group(proc)


@pytest.fixture
def prefect_api(prefect_server: str) -> Iterator[str]:
    """PREFECT_API_URL pointed at the session's server for the duration of one test."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        yield prefect_server
