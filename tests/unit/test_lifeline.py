"""`tasks.lifeline`: a child started through it exits when its parent dies, however the parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import sys, time
from tasks import lifeline
proc, _ = lifeline.popen(["http.server", "--bind", "127.0.0.1", "0"], stdout=sys.stderr)
print(proc.pid, flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_child_exits_when_its_parent_is_killed(sig: signal.Signals) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    child = 0
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        time.sleep(0.5)
        assert _running(child), "the child did not start"
        os.kill(parent.pid, sig)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child), f"the child outlived its parent ({sig.name})"
    finally:
        if parent.poll() is None:
            parent.kill()
        if child and _running(child):
            os.kill(child, signal.SIGKILL)


def test_child_runs_the_module_with_its_arguments_and_exit_code() -> None:
    from tasks import lifeline

    proc, fd = lifeline.popen(["json.tool", "--compact"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(b'{"a": [1, 2]}', timeout=30)
    finally:
        os.close(fd)
    assert (proc.returncode, out) == (0, b'{"a":[1,2]}\n')
    proc, fd = lifeline.popen(["json.tool"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.communicate(b"not json", timeout=30)
    finally:
        os.close(fd)
    assert proc.returncode == 1
