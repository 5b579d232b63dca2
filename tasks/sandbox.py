"""Bounded extraction: every file is parsed in a worker process under a time and memory limit.

A hostile or broken file (a PDF whose objects loop, a decompression bomb, a parser bug that
spins) costs one typed error — `ResourceLimitExceeded` — and one respawned worker, never the
batch or the calling process. Workers are long-lived (imports paid once) and replaced after
`max_jobs` files to bound any slow leak.

`ExtractorPool.run(data, source)` is blocking and thread-safe: callers (Prefect task threads)
each borrow an idle worker. With `workers=0` extraction runs in the calling process, unbounded
(for tests of the pure code path and for debugging).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tasks.errors import ResourceLimitExceeded, XxgkError

log = logging.getLogger(__name__)

Outcome = dict[str, Any]
"""The §10 extraction dict, or {"error": {"type", "message"}}."""


def extract_to_dict(data: bytes, source: str | None, max_bytes: int) -> Outcome:
    from tasks.extract import extract_bytes

    try:
        return extract_bytes(data, source=source, max_bytes=max_bytes).to_dict()
    except XxgkError as exc:
        return {"error": exc.to_dict()}
    except MemoryError:
        return {"error": ResourceLimitExceeded("parsing the file exceeded the memory limit").to_dict()}
    except Exception as exc:  # noqa: BLE001 - a reader bug must cost one file, not the batch
        log.exception("unexpected error extracting %s", source)
        return {"error": {"type": "InternalError", "message": f"unexpected {type(exc).__name__}: {exc}"}}


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource

        limit = max_memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still bounds work
        log.warning("could not set a memory limit for extraction workers")


def _worker_main(conn: Connection, max_memory_mb: int, max_bytes: int) -> None:
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
        conn.send(extract_to_dict(data, source, max_bytes))


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: Connection
    jobs: int = 0


class ExtractorPool:
    def __init__(
        self,
        workers: int,
        timeout_s: float = 120.0,
        max_memory_mb: int = 1536,
        max_bytes: int = 64 * 2**20,
        max_jobs: int = 500,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_memory_mb = max_memory_mb
        self.max_bytes = max_bytes
        self.max_jobs = max_jobs
        self.size = workers
        self._ctx = mp.get_context("forkserver") if workers else None
        if self._ctx is not None:
            self._ctx.set_forkserver_preload(["tasks.extract"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(workers):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        assert self._ctx is not None
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main, args=(child, self.max_memory_mb, self.max_bytes), daemon=True, name="xxgk-extract"
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

    def run(self, data: bytes, source: str | None = None) -> Outcome:
        if not self.size:
            return extract_to_dict(data, source, self.max_bytes)
        w = self._idle.get()
        try:
            w.conn.send((data, source))
            if not w.conn.poll(self.timeout_s):
                log.warning("extraction of %s exceeded %.0f s: worker killed", source, self.timeout_s)
                self._retire(w)
                w = self._spawn()
                return {"error": ResourceLimitExceeded(
                    f"parsing took longer than the limit of {self.timeout_s:.0f} s; the file was abandoned"
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

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                w.conn.send(None)
            except OSError:
                pass
            w.process.join(timeout=2)
            self._retire(w)

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
