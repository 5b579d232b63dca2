"""`xxgk server` and `xxgk worker` as a user runs them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prefect_server import free_port, prefect_env


def _lines(proc: subprocess.Popen[str], into: list[str]) -> None:
    for line in proc.stdout or []:
        into.append(line)


def _wait_for(lines: list[str], text: str, proc: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if any(text in line for line in lines):
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} not printed (rc={proc.poll()}); output:\n{''.join(lines)[-3000:]}")


def _post(url: str, body: dict[str, object]) -> object:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_server_registers_the_deployments_runs_a_worker_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = prefect_env(tmp_path / "unused-home", XXGK_SERVER_HOME=str(tmp_path / "prefect"),
                      XXGK_SOURCE=str(tmp_path / "bucket"), XXGK_OUTPUT=str(tmp_path / "out"))  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.cli", "server", "--port", str(port)], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=_lines, args=(proc, lines), daemon=True).start()
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_for(lines, "Ctrl-C stops", proc, timeout_s=120)
        out = "".join(lines)
        assert f"Prefect UI:   http://127.0.0.1:{port}" in out and "xxgk watch" in out and "--param year=" in out
        from tasks.cli import _bin_dir

        here = _bin_dir()  # the same PATH and directory as the server's: .venv/bin/ unless xxgk is on PATH
        for hint in ("xxgk watch", "prefect deployment run", "xxgk worker"):
            assert f" {here}{hint}" in out, (here, hint, out[-2000:])
        deployments = _post(f"{api}/deployments/filter", {})
        assert sorted(d["name"] for d in deployments) == ["daily", "on-upload", "sweep", "weekly", "yearly"]  # type: ignore[union-attr]
        _wait_for(lines, "started!", proc, timeout_s=30)  # the worker
        ui = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=5).read())
        assert ui["api_url"] == api  # the port came through PREFECT_SERVER_API_PORT, so the UI calls the right one
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(60)
    assert rc == 0, "".join(lines)[-3000:]
    assert not _port_open(port)


def test_worker_refuses_without_a_server(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tasks.cli", "worker"], env=prefect_env(tmp_path), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "PREFECT_API_URL" in proc.stderr and "Traceback" not in proc.stderr
