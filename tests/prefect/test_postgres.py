"""The Prefect server on PostgreSQL (infra/postgres/start-local.sh), with a flow run through it.

The production server runs on PostgreSQL because SQLite stalled under concurrent writes in the
measurements. This starts a throwaway cluster with the script, a `prefect server start` on it,
runs a trivial flow against that server and reads the run back from PostgreSQL's own tables.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect_server import free_port, prefect_env, stop_group, wait_healthy

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "postgres" / "start-local.sh"
TRIVIAL_FLOW = """
from prefect import flow

@flow(name="xxgk-postgres-probe")
def probe() -> int:
    return 42

assert probe() == 42
"""


@pytest.fixture
def cluster() -> Iterator[tuple[Path, int, str]]:
    """A cluster in a fresh directory the postgres user can reach (pytest's tmp_path is root-only)."""
    base = Path(tempfile.mkdtemp(prefix="xxgk-pg-"))
    base.chmod(0o755)
    data, port = base / "data", free_port()
    started = subprocess.run([str(SCRIPT), str(data), str(port)], capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr[-3000:]
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield data, port, url
    finally:
        subprocess.run([str(SCRIPT), "--stop", str(data)], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _psql(data: Path, port: int, sql: str) -> str:
    as_owner = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") and _is_root() else []
    command = [*as_owner, _pg_bin("psql"), "-h", str(data), "-p", str(port), "-U", "postgres", "-d", "prefect", "-tAc", sql]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def _pg_bin(name: str) -> str:
    return str(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))[-1])


@pytest.mark.slow
def test_prefect_server_on_postgresql_runs_a_flow(cluster: tuple[Path, int, str], tmp_path: Path) -> None:
    data, pg_port, url = cluster
    assert url.startswith("postgresql+asyncpg://prefect:") and url.endswith(f"@127.0.0.1:{pg_port}/prefect")
    port, log = free_port(), tmp_path / "server.log"
    env = prefect_env(tmp_path / "home", PREFECT_API_DATABASE_CONNECTION_URL=url,
                      PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port))  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        api = f"http://127.0.0.1:{port}/api"
        wait_healthy(api, server, log)
        client_env = prefect_env(tmp_path / "client", PREFECT_API_URL=api)
        run = subprocess.run([sys.executable, "-c", TRIVIAL_FLOW], env=client_env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-3000:]
        rows = _psql(data, pg_port, "SELECT f.name, r.state_name FROM flow_run r JOIN flow f ON f.id = r.flow_id")
        assert rows == "xxgk-postgres-probe|Completed"
    finally:
        stop_group(server)
