"""Bounded extraction: every file is parsed in a worker process under a time and memory limit.

The time limit counts the worker's CPU seconds on the file, so a file is refused for what it
costs, not for how busy the machine is; a worker that holds a file for `wall_factor` (10) times the
limit in wall-clock time without using the CPU (blocked, swapping) is stopped too.

A hostile or broken file (a PDF whose objects loop, a decompression bomb, a parser bug that
spins) costs one typed error — `ResourceLimitExceeded` — and one respawned worker, never the
batch or the calling process. Workers are long-lived (imports paid once) and replaced after
`max_jobs` files to bound any slow leak.

`ExtractorPool.run(data, source)` is blocking and thread-safe: callers (Prefect task threads)
each borrow an idle worker. With `workers=0` extraction runs in the calling process, unbounded
(for tests of the pure code path and for debugging).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from tasks.errors import ResourceLimitExceeded, XxgkError

if TYPE_CHECKING:
    from tasks.extract.ocr import OcrOptions

log = logging.getLogger(__name__)

Outcome = dict[str, Any]
"""The §10 extraction dict, or {"error": {"type", "message"}}."""


def extract_to_dict(data: bytes, source: str | None, max_bytes: int, ocr: OcrOptions | None = None) -> Outcome:
    from tasks.extract import OcrOptions, extract_bytes

    try:
        return extract_bytes(data, source=source, max_bytes=max_bytes, ocr=ocr or OcrOptions(enabled=False)).to_dict()
    except XxgkError as exc:
        return {"error": exc.to_dict()}
    except MemoryError:
        return {"error": ResourceLimitExceeded("parsing the file exceeded the memory limit").to_dict()}
    except Exception as exc:  # a reader bug must cost one file, not the batch
        log.exception("unexpected error extracting %s", source)
        return {"error": {"type": "InternalError", "message": f"unexpected {type(exc).__name__}: {exc}"}}


def needs_ocr(outcome: Outcome) -> bool:
    """A text-lane outcome that OCR may improve: a scan (no text layer, or an image upload), or a
    table printed as a picture."""
    err = outcome.get("error")
    if err is not None:
        return err.get("type") == "ScannedDocument"
    return any(c.get("status") == "image_only" for c in outcome.get("cells", ()))


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource

        limit = max_memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still bounds work
        log.warning("could not set a memory limit for extraction workers")


def _worker_main(conn: Connection, max_memory_mb: int, max_bytes: int, ocr: OcrOptions | None = None) -> None:
    _limit_memory(max_memory_mb)
    import tasks.extract  # noqa: F401 - pay the imports before the first job

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        data, source = job
        conn.send(extract_to_dict(data, source, max_bytes, ocr))


WALL_FACTOR = 10
"""A file may hold a worker this many times the CPU limit in wall-clock time."""
_POLL_S = 0.05
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a live process has used, from /proc; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()  # after "pid (comm) ": state is field 3
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14, 15


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: Connection
    jobs: int = 0


class _Lane:
    """Worker processes sharing one set of limits and OCR options; spawned on first use."""

    def __init__(self, ctx: Any, workers: int, timeout_s: float, max_memory_mb: int, max_bytes: int, max_jobs: int,
                 ocr: OcrOptions | None, name: str, wall_factor: float = WALL_FACTOR) -> None:  # fmt: skip
        self._ctx = ctx
        self.wall_factor = wall_factor
        self.size = workers
        self.timeout_s = timeout_s
        self.max_memory_mb = max_memory_mb
        self.max_bytes = max_bytes
        self.max_jobs = max_jobs
        self.ocr = ocr
        self.name = name
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._spawned = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if not self._spawned:
                self._spawned = True
                for _ in range(self.size):
                    self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main, args=(child, self.max_memory_mb, self.max_bytes, self.ocr), daemon=True, name=self.name
        )
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def _retire(self, w: _Worker) -> None:
        try:
            w.conn.close()
        finally:
            if w.process.is_alive():
                w.process.kill()
            w.process.join(timeout=5)

    def run(self, data: bytes, source: str | None) -> Outcome:
        self.start()
        w = self._idle.get()
        try:
            w.conn.send((data, source))
            over = self._wait(w)
            if over is not None:
                log.warning("extraction of %s exceeded %s: worker killed", source, over)
                self._retire(w)
                w = self._spawn()
                return {"error": ResourceLimitExceeded(
                    f"parsing took longer than the limit of {over}; the file was abandoned"
                ).to_dict()}
            try:
                out: Outcome = w.conn.recv()
            except (EOFError, OSError):
                code = w.process.exitcode
                self._retire(w)
                w = self._spawn()
                return {"error": ResourceLimitExceeded(
                    f"the parser process died (exit code {code}), most likely past the memory limit of "
                    f"{self.max_memory_mb} MB"
                ).to_dict()}
            w.jobs += 1
            if w.jobs >= self.max_jobs:
                self._retire(w)
                w = self._spawn()
            return out
        except (BrokenPipeError, OSError):
            self._retire(w)
            w = self._spawn()
            return {"error": ResourceLimitExceeded("the parser process could not be reached").to_dict()}
        finally:
            self._idle.put(w)

    def _wait(self, w: _Worker) -> str | None:
        """Wait for the worker's answer; the limit it went past, or None once an answer is ready."""
        pid = w.process.pid
        cpu0 = cpu_seconds(pid)
        if cpu0 is None:  # no /proc: wall-clock time is the limit
            return None if w.conn.poll(self.timeout_s) else f"{self.timeout_s:.0f} s"
        deadline = time.monotonic() + self.timeout_s * self.wall_factor
        while not w.conn.poll(_POLL_S):
            cpu = cpu_seconds(pid)
            if cpu is not None and cpu - cpu0 > self.timeout_s:
                return f"{self.timeout_s:.0f} s of CPU time"
            if time.monotonic() > deadline:
                return f"{self.timeout_s * self.wall_factor:.0f} s of wall-clock time"
        return None

    def close(self) -> None:
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            with contextlib.suppress(OSError):
                w.conn.send(None)
            w.process.join(timeout=2)
            self._retire(w)


class ExtractorPool:
    """Text lane (`workers` processes, OCR off) and OCR lane (`ocr_workers` processes, OCR on, their
    own time and memory limits). Every file goes to the text lane; only a file that needs OCR
    (`needs_ocr`: a scan, an image upload, a table printed as a picture) is then run again in the OCR
    lane, after its text worker is free again: a 20-page scan occupies an OCR process, never the
    processes reading text reports. `ocr=None` (or disabled) keeps scans ScannedDocument; with
    `ocr_workers=0` OCR runs in the text lane itself."""

    def __init__(
        self,
        workers: int,
        timeout_s: float = 120.0,
        max_memory_mb: int = 1536,
        max_bytes: int = 64 * 2**20,
        max_jobs: int = 500,
        wall_factor: float = WALL_FACTOR,
        ocr: OcrOptions | None = None,
        ocr_workers: int = 1,
        ocr_timeout_s: float = 900.0,
        ocr_memory_mb: int = 3072,
    ) -> None:
        self.max_bytes = max_bytes  # the limits of the lanes' workers are theirs (_Lane); these serve workers=0
        self.ocr = ocr if ocr is not None and ocr.enabled else None
        self._ctx = mp.get_context("forkserver") if workers else None
        if self._ctx is not None:
            self._ctx.set_forkserver_preload(["tasks.extract"])
        self._lock = threading.Lock()
        self._closed = False
        self._text: _Lane | None = None
        self._ocr: _Lane | None = None
        if workers:
            separate = self.ocr is not None and ocr_workers > 0
            self._text = _Lane(self._ctx, workers, timeout_s, max_memory_mb, max_bytes, max_jobs,
                               None if separate else self.ocr, "xxgk-extract", wall_factor)  # fmt: skip
            self._text.start()
            if separate:
                self._ocr = _Lane(self._ctx, ocr_workers, ocr_timeout_s, ocr_memory_mb, max_bytes, max_jobs,
                                  self.ocr, "xxgk-ocr", wall_factor)  # fmt: skip

    def run(self, data: bytes, source: str | None = None) -> Outcome:
        if self._text is None:
            return extract_to_dict(data, source, self.max_bytes, self.ocr)
        out = self._text.run(data, source)
        if self._ocr is not None and needs_ocr(out):
            out = self._ocr.run(data, source)
        return out

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for lane in (self._text, self._ocr):
            if lane is not None:
                lane.close()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
