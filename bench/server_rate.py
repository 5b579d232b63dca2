"""The Prefect server's task-run recording rate, on PostgreSQL (and SQLite to compare), with the
project's own extraction task shape.

    .venv/bin/python bench/server_rate.py [--db postgres,sqlite] [--clients 1,2,4] [--batches 2]
                                          [--batch-size 500] [--workers 4] [--reports-per-task 1,0]

Prints figures; asserts nothing. For each database a `prefect server start` (a fresh PREFECT_HOME;
PostgreSQL from infra/postgres/start-local.sh in a temporary folder), then for each combination
C client processes at once, each standing for one worker machine: every client runs `--batches`
flow runs of `--batch-size` uploads the way `flows/ingest.py` does (the real `steps.extract_report`
or `steps.extract_reports` tasks, `pipeline.reports_per_task` grouping for `--workers` extraction
processes, the same thread pool), with the extraction itself replaced by an instant stub so only
orchestration is measured: task-run creation, the state changes and events, the rename of a
per-report task run after its agency and year. Measured: the span from the first task run created
to the last one recorded Completed in the database (the server records task runs from events,
asynchronously), task runs recorded per second over it, and CPU seconds of the server process
tree, of PostgreSQL (postmaster and backends) and of the clients, per task run (less the idle
server's own CPU, measured for 5 s before each run).

On a 2-core machine the clients compete with the server for the same cores: the rate printed is a
lower bound of what a server host does; the CPU per task run of the server and of PostgreSQL is what
sizes that host (rate ≈ its cores / (server + PostgreSQL CPU per task run)).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from procmon import process_cpu

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_SCRIPT = ROOT / "infra" / "postgres" / "start-local.sh"

CLIENT = r"""
import json, os, sys, time
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from tasks import pipeline, steps
from tasks.records import ObjectInfo

args = json.loads(sys.argv[1])

def instant(source, info, pool, max_bytes=None):  # the parse replaced: orchestration only
    return pipeline.Extracted(info, f"{{source}}/{{info.key}}", "0" * 64,
                              {{"agency": "某某县人民政府", "year": 2024, "cells": [], "issues": []}})

pipeline.extract_one = instant
steps.extractor_pool = lambda: None

@flow(name="xxgk-server-rate", task_runner=ThreadPoolTaskRunner(max_workers=2 * args["workers"] + 1))
def batch(source: str, infos: list) -> int:
    per_task = pipeline.reports_per_task(len(infos), args["workers"], args["reports_per_task"])
    groups = pipeline.batches(infos, per_task)
    if per_task == 1:
        futures = steps.extract_report.map(unmapped(source), [g[0].key for g in groups], [g[0] for g in groups])
    else:
        labels = [f"{{len(g)}} reports ({{g[0].key}} … {{g[-1].key}})" for g in groups]
        futures = steps.extract_reports.map(unmapped(source), labels, groups)
    return sum(1 for f in futures if f.result() is not None)

for b in range(args["batches"]):
    infos = [ObjectInfo(key=f"c{{args['client']}}/b{{b}}/{{i:05d}}.pdf", size=1, last_modified=datetime.now(UTC), etag=str(i))
             for i in range(args["batch_size"])]
    batch(args["source"], infos)
print(json.dumps({{"cpu": time.process_time()}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live descendants, and the descendants it has reaped."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            kids.setdefault(int(stat[stat.rindex(b")") + 2 :].split()[1]), []).append(int(d))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += process_cpu(p, reaped=True)
        todo.extend(kids.get(p, []))
    return total


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XXGK_"))}
    return {**env, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


class Postgres:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="xxgk-pg-bench-"))
        self.base.chmod(0o755)  # reachable by the postgres user when run as root
        self.data, self.port = self.base / "data", free_port()
        r = subprocess.run([str(PG_SCRIPT), str(self.data), str(self.port)], capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise SystemExit(f"PostgreSQL did not start:\n{r.stderr[-2000:]}")
        self.url = r.stdout.strip().splitlines()[-1]

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def query(self, sql: str) -> str:
        bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        cmd = [*owner, str(bin_dir / "psql"), "-h", str(self.data), "-p", str(self.port), "-U", "postgres", "-d", "prefect", "-tAc", sql]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout.strip()

    def version(self) -> str:
        return self.query("SHOW server_version")

    def close(self) -> None:
        subprocess.run([str(PG_SCRIPT), "--stop", str(self.data)], capture_output=True, timeout=120)
        shutil.rmtree(self.base, ignore_errors=True)


class Server:
    def __init__(self, home: Path, db_url: str | None) -> None:
        self.home, self.port = home, free_port()
        extra = {"PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(self.port)}
        if db_url:
            extra["PREFECT_API_DATABASE_CONNECTION_URL"] = db_url
        self.log = home / "server.log"
        home.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([PY, "-m", "prefect", "server", "start"], env=env_for(home, **extra),
                                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)  # fmt: skip
        self.api = f"http://127.0.0.1:{self.port}/api"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.api}/health", timeout=2) as r:
                    if r.read().strip() == b"true":
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"Prefect server not healthy; log tail:\n{self.log.read_text('utf-8', 'replace')[-2000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _sql(pg: Postgres | None, home: Path, sql: str) -> list[str]:
    if pg is not None:
        return pg.query(sql).split("|")
    con = sqlite3.connect(f"file:{home / 'prefect.db'}?mode=ro", uri=True, timeout=30)
    try:
        return [str(v) for v in con.execute(sql).fetchone()]
    finally:
        con.close()


def completed(db: str, pg: Postgres | None, home: Path) -> int:
    sql = "SELECT count(*) FROM task_run WHERE state_type = 'COMPLETED' AND name LIKE 'extract %'"
    return int(_sql(pg, home, sql)[0] or 0)


def recording_span(pg: Postgres | None, home: Path, skip: int) -> float:
    """Seconds from the first of these task runs created to the last one recorded Completed (the
    database's own timestamps: client start-up is not counted)."""
    sql = ("SELECT min(created), max(updated) FROM (SELECT created, updated FROM task_run WHERE name LIKE 'extract %' "
           f"ORDER BY created LIMIT -1 OFFSET {skip}) t") if pg is None else (
           "SELECT min(created), max(updated) FROM (SELECT created, updated FROM task_run WHERE name LIKE 'extract %' "
           f"ORDER BY created OFFSET {skip}) t")  # fmt: skip
    from datetime import datetime

    first, last = (datetime.fromisoformat(v.strip().replace("Z", "+00:00").replace(" ", "T", 1)) for v in _sql(pg, home, sql))
    return (last - first).total_seconds()


def measure(db: str, pg: Postgres | None, server: Server, clients: int, a: argparse.Namespace, per_task: int) -> dict[str, Any]:
    from tasks import pipeline

    group = pipeline.reports_per_task(a.batch_size, a.workers, per_task)
    expected_per_batch = -(-a.batch_size // group)
    before = completed(db, pg, server.home)
    expected = before + clients * a.batches * expected_per_batch
    i0, j0 = tree_cpu(server.proc.pid), tree_cpu(pg.pid()) if pg else 0.0
    time.sleep(5)  # the idle server's own loops (scheduler, event persistence), subtracted below
    s0 = tree_cpu(server.proc.pid)
    p0 = tree_cpu(pg.pid()) if pg else 0.0
    idle_server, idle_pg = (s0 - i0) / 5, (p0 - j0) / 5
    load0 = os.getloadavg()[0]
    w0 = time.perf_counter()
    procs = []
    src = tempfile.mkdtemp(prefix="xxgk-rate-src-")
    for c in range(clients):
        spec = json.dumps({"client": c, "batches": a.batches, "batch_size": a.batch_size, "workers": a.workers,
                           "reports_per_task": per_task, "source": src})  # fmt: skip
        env = env_for(server.home / f"client-{c}", PREFECT_API_URL=server.api, PREFECT_LOGGING_LEVEL="WARNING")
        procs.append(subprocess.Popen([PY, "-c", CLIENT.format(root=str(ROOT)), spec], env=env, cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    client_cpu = 0.0
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"client failed:\n{err[-3000:]}")
        client_cpu += json.loads(out.strip().splitlines()[-1])["cpu"]
    clients_done = time.perf_counter() - w0
    got = completed(db, pg, server.home)
    while got < expected and time.perf_counter() - w0 < clients_done + 600:
        time.sleep(0.5)
        got = completed(db, pg, server.home)
    wall = time.perf_counter() - w0
    shutil.rmtree(src, ignore_errors=True)
    n = got - before
    return {"task_runs": n, "expected": expected - before, "group": group, "wall": wall, "clients_wall": clients_done,
            "span": recording_span(pg, server.home, before),
            "server_cpu": tree_cpu(server.proc.pid) - s0 - idle_server * wall,
            "pg_cpu": (tree_cpu(pg.pid()) - p0 - idle_pg * wall) if pg else 0.0,
            "client_cpu": client_cpu, "load0": load0, "load1": os.getloadavg()[0]}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="postgres,sqlite")
    ap.add_argument("--clients", default="1,2,4", help="client processes at once (worker machines)")
    ap.add_argument("--batches", type=int, default=2, help="flow runs per client")
    ap.add_argument("--batch-size", type=int, default=500, help="uploads per flow run (XXGK_BATCH_SIZE)")
    ap.add_argument("--workers", type=int, default=4, help="extraction processes per client (XXGK_WORKERS)")
    ap.add_argument("--reports-per-task", default="1,0", help="XXGK_REPORTS_PER_TASK values (0 = automatic)")
    a = ap.parse_args()
    import platform

    import prefect

    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"prefect {prefect.__version__} · load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"batches of {a.batch_size} uploads, {a.batches} flow run(s) per client, {a.workers} extraction processes "
          f"per client (grouping), extraction stubbed")
    for db in a.db.split(","):
        pg = Postgres() if db == "postgres" else None
        home = Path(tempfile.mkdtemp(prefix=f"xxgk-rate-{db}-"))
        server = Server(home, pg.url if pg else None)
        try:
            print(f"\n## {db}" + (f" (PostgreSQL {pg.version()})" if pg else " (SQLite)"))
            print(f"{'clients':>7} {'per task':>8} {'task runs':>9} {'span s':>7} {'runs/s':>7} {'server CPU ms/run':>17} "
                  f"{'PG CPU ms/run':>13} {'client CPU ms/run':>17} {'load':>11}")
            for per_task in [int(x) for x in a.reports_per_task.split(",")]:
                for clients in [int(x) for x in a.clients.split(",")]:
                    r = measure(db, pg, server, clients, a, per_task)
                    n = max(r["task_runs"], 1)
                    missing = "" if r["task_runs"] == r["expected"] else f"  ONLY {r['task_runs']} of {r['expected']} recorded"
                    print(f"{clients:7d} {r['group']:8d} {r['task_runs']:9d} {r['span']:7.1f} {r['task_runs'] / r['span']:7.1f} "
                          f"{r['server_cpu'] / n * 1000:17.1f} {r['pg_cpu'] / n * 1000:13.1f} {r['client_cpu'] / n * 1000:17.1f} "
                          f"{r['load0']:5.1f}→{r['load1']:<5.1f}{missing}", flush=True)
        finally:
            server.close()
            if pg:
                pg.close()
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
