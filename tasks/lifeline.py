"""Child processes that die with the process that started them, also on kill -9.

`popen(args, ...)` starts ``python -m tasks.lifeline FD MODULE ARG…`` holding the read end of a
pipe whose only write end stays in the parent. The child runs MODULE as ``__main__`` (as
``python -m MODULE ARG…`` would) with a daemon thread blocked reading FD. However the parent ends
(exit, SIGTERM, SIGKILL, a crash), the kernel closes its descriptors, the read returns EOF, and
the child sends itself SIGTERM (the server shuts down cleanly), then SIGKILL after `GRACE_S`.

Why not ``prctl(PR_SET_PDEATHSIG)``: the signal is sent when the *thread* that forked the child
exits, not the process, and `xxgk ingest` starts its temporary Prefect server from a boot thread
that ends once the server is up; it is also Linux-only. The pipe works from any thread, on any
POSIX system. The write end is not inheritable, so only the parent holds it (children started with
`subprocess` never get it; `multiprocessing` here uses forkserver, which passes explicit fds only).
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from typing import Any

GRACE_S = 5.0
"""Seconds between the SIGTERM a child sends itself when its parent is gone and its SIGKILL."""


def popen(args: list[str], **kwargs: Any) -> tuple[subprocess.Popen[Any], int]:
    """Start ``python -m MODULE ARG…`` (`args` = [MODULE, ARG…]) tied to this process's life.

    Returns the process and the write end of its lifeline: keep it open while the child should
    live (closing it stops the child, as this process's death does)."""
    read_fd, write_fd = os.pipe()  # both non-inheritable
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tasks.lifeline", str(read_fd), *args], pass_fds=(read_fd,), **kwargs
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    return proc, write_fd


def _watch(fd: int) -> None:
    """Block until the parent's end of the pipe closes, then stop this process."""
    while True:
        try:
            if not os.read(fd, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    fd, module, *rest = argv
    threading.Thread(target=_watch, args=(int(fd),), name="lifeline", daemon=True).start()
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
