"""Helpers for the benchmarks: RSS of a process tree from /proc, sampled in a thread, and a
read-only look at the task and flow runs a Prefect SQLite database recorded.

No psutil needed (it is not a dependency); Linux only.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except OSError:
        return 0


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int, reaped: bool = False) -> float:
    """User + system CPU seconds of a process so far (with `reaped`, also those of the children it
    has waited for)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    f = stat[stat.rindex(b")") + 2 :].split()
    return (int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if reaped else 0)) / TICK


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return ""


def tree(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def classify(cmd: str) -> str:
    if ("prefect" in cmd and "server" in cmd) or "uvicorn" in cmd:
        return "server"
    if "forkserver" in cmd or "multiprocessing" in cmd:
        return "workers"
    return "flow"


@dataclass
class Sample:
    t: float
    total: int
    by_kind: dict[str, int]
    per_process: dict[int, int]
    cpu: dict[int, float] = field(default_factory=dict)


@dataclass
class Sampler:
    """Samples the RSS of `pid` and its descendants every `every` seconds until stopped."""

    pid: int
    every: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> Sample | None:
        pids = tree(self.pid)
        per = {p: _rss(p) for p in pids}
        per = {p: r for p, r in per.items() if r}
        if not per:
            return None
        by: dict[str, int] = {}
        for p, r in per.items():
            if p not in self.names:
                self.names[p] = _name(p)
            k = classify(self.names[p])
            by[k] = by.get(k, 0) + r
        s = Sample(time.perf_counter() - self._t0, sum(per.values()), by, per, {p: process_cpu(p) for p in per})
        self.samples.append(s)
        return s

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds per kind of process (flow, workers, server), from each process's last sample."""
        last: dict[int, float] = {}
        for smp in self.samples:
            last.update(smp.cpu)
        out: dict[str, float] = {}
        for p, c in last.items():
            k = classify(self.names.get(p, ""))
            out[k] = out.get(k, 0.0) + c
        return out

    def peak(self) -> int:
        return max((s.total for s in self.samples), default=0)

    def peak_process(self) -> tuple[int, str]:
        best = (0, "")
        for s in self.samples:
            for p, r in s.per_process.items():
                if r > best[0]:
                    best = (r, self.names.get(p, "?"))
        return best


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def prefect_runs(db: Path, since: float = 0.0) -> dict[str, Any]:
    """Task runs per name prefix (count, summed and spanned seconds) and flow runs, from a Prefect SQLite DB;
    only runs created after `since` (epoch seconds)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select name, flow_run_id, state_type, start_time, end_time, total_run_time from task_run"
        ).fetchall()
        flows = con.execute("select id, name, state_type, start_time, end_time from flow_run").fetchall()
    finally:
        con.close()

    def ts(v: Any) -> float | None:
        if v is None:
            return None
        from datetime import datetime

        return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()

    def secs(v: Any) -> float:
        if v is None:
            return 0.0
        if isinstance(v, (int, float)):
            return float(v)
        from datetime import datetime

        try:  # stored as a datetime offset from the epoch by Prefect's SQLite Interval type
            return (datetime.fromisoformat(str(v)) - datetime(1970, 1, 1)).total_seconds()
        except ValueError:
            return 0.0

    by: dict[str, dict[str, Any]] = {}
    per_flow: dict[str, int] = {}
    rows = [r for r in rows if (ts(r[3]) or since) >= since]
    flows = [f for f in flows if (ts(f[3]) or since) >= since]
    for name, frid, _state, st, en, total in rows:
        kind = name.split(" ")[0] if not name.startswith("quality index") and not name.startswith("run summary") else name
        if kind.startswith("xxgk-ingest-"):  # the parent's record of a child flow run
            kind = "child-flow"
        b = by.setdefault(kind, {"count": 0, "seconds": 0.0, "first": None, "last": None})
        b["count"] += 1
        b["seconds"] += secs(total)
        s, e = ts(st), ts(en)
        if s is not None:
            b["first"] = s if b["first"] is None else min(b["first"], s)
        if e is not None:
            b["last"] = e if b["last"] is None else max(b["last"], e)
        per_flow[frid] = per_flow.get(frid, 0) + 1
    return {
        "task_runs": len(rows),
        "by_kind": by,
        "flow_runs": len(flows),
        "max_task_runs_per_flow_run": max(per_flow.values(), default=0),
    }
