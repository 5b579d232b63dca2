"""The `xxgk` command line: `xxgk extract PATH` prints the JSON of spec §10."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tasks.errors import ConfigurationError, ServerUnavailable, XxgkError
from tasks.redact import redact_location
from tasks.settings import get_settings

EXIT_DOCUMENT_ERROR = 3
EXIT_CONFIGURATION = 3
"""A misconfiguration (`ConfigurationError`: credentials, endpoint, access, bucket, queue, folder):
one line on stderr, `xxgk: <type>: <message>`, no traceback."""
EXIT_QUARANTINED = 4
EXIT_NOT_READ = 5
EXIT_BUSY = 6
"""`xxgk maintain`: another maintenance run holds the lease; this one did nothing."""


def _dump(obj: Any) -> str:
    """Indented JSON with each cell record on one line, so a report reads top to bottom."""
    if not isinstance(obj, dict) or "cells" not in obj:
        return json.dumps(obj, ensure_ascii=False, indent=2)
    head = {k: v for k, v in obj.items() if k != "cells"}
    cells = ",\n    ".join(json.dumps(c, ensure_ascii=False) for c in obj["cells"])
    text = json.dumps(head, ensure_ascii=False, indent=2)
    return text[:-2] + ',\n  "cells": [\n    ' + cells + "\n  ]\n}"


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract one file in a worker process under the XXGK_EXTRACT_* time and memory limits, so a
    hostile file (a decompression bomb, a PDF that loops) ends in a typed error, never a hang."""
    from tasks.errors import DocumentTooLarge
    from tasks.sandbox import ExtractorPool

    limits = get_settings().extract
    ocr = get_settings().ocr
    path = Path(args.path)
    try:
        if args.path.startswith("s3://"):
            data = _read_s3(args.path, limits.max_bytes)
        else:
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise DocumentTooLarge(f"{path.name} is {size:,} bytes, over the limit of {limits.max_bytes:,} bytes")
            data = path.read_bytes()
    except ConfigurationError:
        raise  # one line from main(): not a document error
    except XxgkError as exc:
        print(_dump({"error": exc.to_dict(), "source": redact_location(args.path)}))
        return EXIT_DOCUMENT_ERROR
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        print(_dump({"error": {"type": "FileNotFound", "message": f"no such file: {args.path}"}}))
        return EXIT_DOCUMENT_ERROR
    except PermissionError:
        print(_dump({"error": {"type": "FileNotReadable", "message": f"permission denied reading {args.path}"}}))
        return EXIT_DOCUMENT_ERROR
    with ExtractorPool(1, timeout_s=limits.timeout_s, max_memory_mb=limits.max_memory_mb,
                       max_bytes=limits.max_bytes, ocr=ocr.options(), ocr_workers=ocr.workers,
                       ocr_timeout_s=ocr.timeout_s, ocr_memory_mb=ocr.max_memory_mb) as pool:  # fmt: skip
        result = pool.run(data, source=args.path)
    if "error" in result:
        print(_dump({"error": result["error"], "source": redact_location(args.path)}))
        return EXIT_DOCUMENT_ERROR
    print(_dump(result))
    return 0


def _read_s3(uri: str, max_bytes: int) -> bytes:
    """The object at s3://bucket/key, through the project's storage settings (XXGK_S3_*, AWS_ENDPOINT_URL)."""
    from tasks.errors import DocumentTooLarge
    from tasks.storage import open_store, require_source

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    store = open_store(f"s3://{bucket}", get_settings().storage)
    info = store.head(key)
    if info is None:
        require_source(store)  # a HEAD cannot tell a missing bucket from a missing key: BucketNotFound
        raise FileNotFoundError(uri)
    if info.size > max_bytes:
        raise DocumentTooLarge(f"{uri} is {info.size:,} bytes, over the limit of {max_bytes:,} bytes")
    return store.fetch(key, max_bytes).data  # bounded: the object may have grown since the HEAD


def cmd_samples(args: argparse.Namespace) -> int:
    """Extract every report under a folder into JSON files and print a one-line summary per report."""
    from tasks import progress

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    paths = sorted(p for p in Path(args.folder).rglob("*") if p.is_file() and p.name.startswith("source."))
    with progress.terminal_progress("extracting"):
        progress.add_total(len(paths))
        for path in paths:
            failures += _extract_one_sample(path, out)
            progress.advance()
    print(f"JSON written to {out}/")
    return 1 if failures else 0


def _extract_one_sample(path: Path, out: Path) -> int:
    """Extract one file of `extract-all` into OUT/<folder>.json and print its line; 1 if it failed."""
    from tasks.extract import extract_path

    name = path.parent.name
    try:
        result = extract_path(path).to_dict()
    except XxgkError as exc:
        (out / f"{name}.json").write_text(_dump({"error": exc.to_dict(), "source": str(path)}), "utf-8")
        print(f"{name:32} {exc.type}: {exc}")
        return 1
    (out / f"{name}.json").write_text(_dump(result), "utf-8")
    reported = sum(c["status"] == "reported" for c in result["cells"])
    print(
        f"{name:32} {result['media']:5} {result['format_version']:10} {result['year']} {result['agency']}"
        f"  {reported}/{len(result['cells'])} cells printed"
    )
    return 0


EPHEMERAL_STARTUP_TIMEOUT_S = 600
"""How long to wait at least for Prefect's temporary server to answer (its first start creates its
database: 30 s at nice 19 on this 2-core machine while a benchmark ran, over 120 s with two more
sessions' tests; Prefect's default is 20 s). PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, when
larger, wins."""


SERVER_LAUNCHES = 3
"""Prefect starts its temporary server again whenever the process exits with code 3 (taken as "port in
use"), but uvicorn also exits 3 when the application fails to start (an unusable database): without
a bound it restarts for ever. More launches than this is a server that cannot start."""


def _tethered_server_class() -> Any:
    """Prefect's temporary server, started through `tasks.lifeline` so it dies with this process.

    Prefect's own `SubprocessASGIServer` stops its server from an atexit hook, which never runs on
    kill -9 (nor on SIGTERM without a handler): the server then stayed up, orphaned, ~230 MB each
    (issue 13). The command is Prefect's (`SubprocessASGIServer._run_uvicorn_command`, 3.9). Its
    output (errors only) goes to `temporary-server.log` in PREFECT_HOME, not over the command's
    own lines; a server that cannot start ends in ServerUnavailable naming its last error."""
    import prefect
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_HOME, get_current_settings

    from tasks import lifeline

    class TetheredServer(SubprocessASGIServer):
        _lifeline: int | None = None
        _launches = 0

        @property
        def log_path(self) -> Path:
            return Path(PREFECT_HOME.value()) / "temporary-server.log"

        def _run_uvicorn_command(self) -> Any:
            self._close_lifeline()
            self._launches += 1
            if self._launches > SERVER_LAUNCHES:
                raise RuntimeError(f"it exited at start-up {SERVER_LAUNCHES} times: {self.last_error()}")
            env = {
                **os.environ,
                "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
                **get_current_settings().to_environment_variables(exclude_unset=True),
            }  # fmt: skip
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                proc, self._lifeline = lifeline.popen(
                    ["uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
                     "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                     "--log-level", "error", "--lifespan", "on"],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            return proc

        def last_error(self) -> str:
            """The last exception line of the server's log (see it for the whole traceback)."""
            try:
                lines = self.log_path.read_text(errors="replace").splitlines()
            except OSError:
                lines = []
            errors = [ln.strip() for ln in lines if re.match(r"^[\w.]+(Error|Exception)\b", ln.strip())]
            return f"{errors[-1][:300] if errors else 'no error logged'} (log: {self.log_path})"

        def discard(self) -> None:
            """Stop a server that failed to start, without Prefect's "Stopping" line at exit."""
            process, self.server_process = self.server_process, None
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
            self._close_lifeline()

        def _close_lifeline(self) -> None:
            if self._lifeline is not None:
                os.close(self._lifeline)
                self._lifeline = None

        def stop(self) -> None:
            super().stop()
            self._close_lifeline()

    return TetheredServer


def _tethered_ephemeral_server() -> Any:
    """The temporary Prefect server this process will use (none if PREFECT_API_URL is set or the
    temporary server is disabled), registered where Prefect's client looks for it: every
    `get_client()` of this process then starts and uses this one, tied to this process's life."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    return _tethered_server_class()()  # SubprocessASGIServer() now returns this instance


class _ServerBoot:
    """The early start of Prefect's temporary server, in a thread; `join` waits for it and turns a
    server that never answered or could not start into ServerUnavailable (one typed line, exit 3)
    rather than letting the flow's client try again and print a traceback."""

    def __init__(self, server: Any, timeout: int) -> None:
        self.error: Exception | None = None
        self._server, self._timeout = server, timeout
        self._thread = threading.Thread(target=self._boot, name="xxgk-prefect-server", daemon=True)
        self._thread.start()

    def _boot(self) -> None:
        try:
            self._server.start(timeout=self._timeout)
        except Exception as exc:  # noqa: BLE001 - any failure: reported by join, in the main thread
            self.error = exc

    def join(self) -> None:
        self._thread.join()
        if self.error is not None:
            why = (str(self.error).splitlines() or [type(self.error).__name__])[0][:500]
            if why.startswith("Timed out"):
                why = f"no answer within {self._timeout} s; {self._server.last_error()}"
            self._server.discard()
            raise ServerUnavailable(
                f"Prefect's temporary server did not start ({why}); point PREFECT_API_URL at a running server "
                f"(`xxgk server`), or on a loaded machine raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
            ) from self.error


def _start_ephemeral_server() -> _ServerBoot | None:
    """Boot Prefect's temporary server (when no PREFECT_API_URL is set) in a thread, so its start-up
    (4–10 s in a subprocess) overlaps our imports and the extraction workers' start instead of
    preceding them. Prefect's default wait of 20 s is too short on a loaded machine: at least
    `EPHEMERAL_STARTUP_TIMEOUT_S`, for this early start and for the flow client's own. The flow's
    client then finds the server already running. The server dies with this process, however it
    ends (`tasks.lifeline`)."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    server = _tethered_ephemeral_server()
    if server is None:
        return None
    timeout = max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), EPHEMERAL_STARTUP_TIMEOUT_S)
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(timeout)  # the flow client's own start
    return _ServerBoot(server, timeout)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Run the ingest flow once over SOURCE into DEST; a summary at the end; exit 5 if an upload could
    not be read (recorded pending: the next run reads it again), else 4 if anything was quarantined."""
    from tasks.progress import terminal_progress

    _preflight(args.source, args.output)
    server = _start_ephemeral_server()
    from flows.ingest import ingest  # sets up Prefect's console logging, which the bar then routes
    from tasks.steps import extractor_pool

    with terminal_progress("extracting"):  # a bar on a terminal; log lines scroll above it
        extractor_pool()  # the workers import the extraction code while the server boots
        if server is not None:
            # Great Expectations' imports (3–5 s of CPU) while the server boots: later, in the flow, they
            # would hold the GIL and starve the threads feeding the extraction workers (measured: the
            # extraction phase 2× longer with two workers)
            import tasks.checks.gx  # noqa: F401

            server.join()
        # the flow run's parameters are recorded by Prefect: never with credentials (the stores ignore them)
        result = ingest(source=redact_location(args.source, escape=False),
                        output=redact_location(args.output, escape=False), prefix=args.prefix)
    out = args.output
    dest = _open(out)
    print()
    print(
        f"ingested: {result['published']} published, {result['unchanged']} unchanged, "
        f"{result['superseded']} superseded, {result['older']} older versions kept as history, "
        f"{len(result['quarantined'])} quarantined, {len(result.get('not_read', []))} not read"
    )
    if result["statuses"]:
        print("quality: " + ", ".join(f"{v} {k}" for k, v in sorted(result["statuses"].items())))
    if result.get("conflicts"):
        print(f"publishing: {result['conflicts']} write conflict(s) with other writers, redone from fresh reads")
    for q in result["quarantined"]:
        print(f"  quarantined {q['source']}: {q['error']}: {q['message']}")
    unread = result.get("not_read", [])
    if unread:
        print(f"not read: {len(unread)} upload(s) could not be read; recorded as pending, the next `xxgk ingest` "
              "(or the watcher, or the sweep) reads them again")  # fmt: skip
    for u in unread:
        print(f"  not read {u['source']}: {u['error']}: {u['message']}")
    if next(iter(dest.list("delta/")), None) is not None:  # never a path that was not written
        print(f"tables:   {out}/delta/  "
              "(Delta tables: cells, reports, checks, t2_active_disclosure, t3_applications, t4_review_litigation)")
    if dest.head("quality/index.html") is not None:
        print(f"quality:  {out}/quality/index.html")
    return EXIT_NOT_READ if unread else EXIT_QUARANTINED if result["quarantined"] else 0


def _open(location: str) -> Any:
    from tasks.storage import open_store

    return open_store(location, get_settings().storage)


def _preflight(source: str, output: str) -> None:
    """Fail in one line, before any flow run starts, if SOURCE cannot be listed or DEST reached."""
    from tasks.storage import require_output, require_source

    require_source(_open(source))
    require_output(_open(output))


def cmd_watch(args: argparse.Namespace) -> int:
    """Watch SOURCE for uploads (SQS notifications with --queue, else polling) and ingest them in batches."""
    import signal

    from tasks.storage import require_output, require_source

    queue = args.queue or get_settings().storage.queue_url
    if not queue:  # polling lists SOURCE; with notifications only the objects named in them are read
        require_source(_open(args.source))
    require_output(_open(args.output))
    from flows.watch import watch

    _tethered_ephemeral_server()  # without a server, the flow runs here: its temporary server dies with us
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    source, output = redact_location(args.source, escape=False), redact_location(args.output, escape=False)
    n = watch(source, output, queue_url=queue, prefix=args.prefix, stop=stop, max_batches=args.max_batches)
    print(f"watcher stopped after {n} batch(es)")
    from tasks.pipeline import DEAD_LETTER_PREFIX, read_dead_letters

    dead = read_dead_letters(_open(output))
    if dead:
        print(f"{len(dead)} upload(s) dead-lettered (their hand-off failed the same way twice, alone): "
              f"{output.rstrip('/')}/{DEAD_LETTER_PREFIX}")  # fmt: skip
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job on embedded defaults: seed a local bucket folder with the sample reports, ingest it."""
    import shutil

    settings = get_settings().pipeline
    bucket = Path(settings.source)
    incoming = bucket / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    seeded = 0
    for src in sorted(Path(args.seed).glob("*/source.*")):
        dst = incoming / f"{src.parent.name}{src.suffix}"
        if not dst.exists():
            shutil.copyfile(src, dst)
            seeded += 1
    print(f"local bucket {bucket}/: {seeded} sample report(s) uploaded, {len(list(incoming.iterdir()))} in incoming/")
    args.source, args.output, args.prefix = str(bucket), settings.output, ""
    code = cmd_ingest(args)
    if code in (0, EXIT_QUARANTINED):  # what was published, also as plain parquet for tools that cannot read Delta
        cmd_snapshot(args)
    print(
        "\nTo watch runs in the Prefect UI: `.venv/bin/xxgk server` (a local server on this run's database; the\n"
        "temporary server used by this command stopped with it), then open the address it prints."
    )
    return code


def cmd_snapshot(args: argparse.Namespace) -> int:
    """Write the plain-parquet snapshot of DEST's current rows and make it current (tasks/snapshot.py)."""
    from tasks import snapshot

    s = get_settings()
    output = args.output or s.pipeline.output
    store = _open(output)
    _preflight_output(store)
    result = snapshot.export(store, s.maintain.snapshot_grace_hours, s.maintain.attempts)
    root = f"{output.rstrip('/')}/{snapshot.ROOT}"
    if not result.switched:
        print(f"snapshot: {result.id} written, but a newer snapshot is current ({root}/current.json)")
        return 0
    counts = ", ".join(f"{n} {d}" for d, n in result.rows.items())
    print(f"snapshot: {root}/{result.id}/  (plain parquet, current rows: {counts or 'nothing published yet'};"
          f" {root}/current.json names it)")  # fmt: skip
    if result.removed:
        print(f"          removed {len(result.removed)} snapshot(s) past their grace period")
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    """Compact, checkpoint and vacuum DEST's Delta tables (tasks/maintain.py); exit 6 if another run is at it."""
    from tasks import maintain

    s = get_settings()
    store = _open(args.output or s.pipeline.output)
    _preflight_output(store)
    try:
        result = maintain.maintain(store, s.maintain.retention_hours, s.maintain.lease_hours, s.maintain.attempts)
    except maintain.MaintenanceBusy as exc:
        print(f"xxgk: {exc}; nothing done", file=sys.stderr)
        return EXIT_BUSY
    for d in result.datasets:
        print(f"{d.dataset:22} {d.files_before:5} → {d.files_after:5} files, {d.files_vacuumed:5} vacuumed"
              f" (replaced over {result.retention_hours} h ago), {d.seconds:.1f} s"
              + (f"; compaction given up: {d.gave_up}" if d.gave_up else ""))  # fmt: skip
    return 0


def _preflight_output(store: Any) -> None:
    from tasks.storage import require_output

    require_output(store)


def _absolute(location: str) -> str:
    """Local folders as absolute paths: flow runs on a worker start in the code directory, not here."""
    return location if "://" in location else str(Path(location).resolve())


def _prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _start(command: list[str], env: dict[str, str], log: Path | None = None) -> Any:
    """A child in its own process group, so Ctrl-C reaches us and we stop it in order."""

    out = log.open("ab") if log else None
    try:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    finally:
        if out:
            out.close()  # the child has its own copy


def _stop(proc: Any, grace_s: float = 6.0) -> None:
    """SIGTERM the child's process group (its id is the child's pid), then SIGKILL after `grace_s`.

    A Prefect worker takes SIGTERM as "drain": it stops taking runs but waits for running ones, so
    the grace is short: Ctrl-C on a local server means stop now (an interrupted run is retried by
    the sweep; the ledger makes that harmless)."""
    import signal

    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _port_in_use(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _wait_healthy(url: str, proc: Any, timeout_s: float) -> bool:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.read().strip() == b"true":
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def _worker_env(api_url: str, home: Path | None, source: str | None, output: str | None) -> dict[str, str]:
    from flows.deploy import REPO
    from tasks.settings import child_env

    s = get_settings()
    env = {
        "PREFECT_API_URL": api_url,
        "PREFECT_WORKER_QUERY_SECONDS": str(s.server.worker_poll_seconds),
        "XXGK_CODE_DIR": s.pipeline.code_dir or str(REPO),
    }
    env.update({k: v for k, v in (("XXGK_SOURCE", source), ("XXGK_OUTPUT", output)) if v})
    if home:
        env["PREFECT_HOME"] = str(home)
    return child_env(env)


def _worker_command(pool: str, limit: int) -> list[str]:
    return _prefect("worker", "start", "--pool", pool, "--limit", str(limit))


def cmd_server(args: argparse.Namespace) -> int:
    """A local Prefect server (API + UI), the deployments registered on it and one process worker, until Ctrl-C."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.deploy import register
    from tasks.settings import child_env

    s = get_settings()
    port, home = args.port or s.server.port, Path(s.server.home).resolve()
    source, output = _absolute(args.source or s.pipeline.source), _absolute(args.output or s.pipeline.output)
    if _port_in_use(s.server.host, port):
        print(f"port {port} is already in use on {s.server.host}; choose another with --port", file=sys.stderr)
        return 2
    home.mkdir(parents=True, exist_ok=True)
    api = f"http://{s.server.host}:{port}/api"
    server_env = child_env({
        "PREFECT_HOME": str(home), "PREFECT_SERVER_API_HOST": s.server.host, "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_API_URL": api,
    })  # fmt: skip
    print(f"starting the Prefect server on port {port} (PREFECT_HOME={home}; log: {home / 'server.log'}) …", flush=True)
    server = _start(_prefect("server", "start"), server_env, home / "server.log")
    children = [server]
    try:
        if not _wait_healthy(api, server, s.server.health_timeout_s):
            print(f"the server did not become healthy; see {home / 'server.log'}", file=sys.stderr)
            return 1
        with temporary_settings(updates={PREFECT_API_URL: api}):
            names = register(source, output)
        limit = s.server.worker_limit or s.pipeline.flow_runs
        children.append(_start(_worker_command(s.pipeline.work_pool, limit), _worker_env(api, home, source, output)))
        _print_next_steps(api, names, source, output)
        return _supervise(children)
    finally:
        for proc in reversed(children):
            _stop(proc)


def _print_next_steps(api: str, names: list[str], source: str, output: str) -> None:
    ui = api.removesuffix("/api")
    bin = _bin_dir()
    print(f"""
Prefect UI:   {ui}
deployments:  {", ".join(names)}  (work pool {get_settings().pipeline.work_pool}, one worker running)
source:       {source}
output:       {output}

Feed it uploads (each batch becomes one flow run of xxgk-ingest/on-upload):
  PREFECT_API_URL={api} {bin}xxgk watch {source} --output {output}
Backfill a year:
  PREFECT_API_URL={api} {bin}prefect deployment run 'xxgk-yearly/yearly' --param year=2023
More workers (here or on other machines that can reach the API and the storage):
  PREFECT_API_URL={api} {bin}xxgk worker

Ctrl-C stops the worker and the server.""", flush=True)


def _bin_dir() -> str:
    """Where this `xxgk` and `prefect` live, as the user would type it: `.venv/bin/` from the
    checkout, an absolute path elsewhere, nothing if they are on PATH."""
    import shutil

    here = Path(sys.executable).parent
    if shutil.which("xxgk") == str(here / "xxgk"):
        return ""
    try:
        return f"{here.relative_to(Path.cwd())}{os.sep}"
    except ValueError:
        return f"{here}{os.sep}"


def _supervise(children: list[Any]) -> int:
    """Wait for Ctrl-C (or SIGTERM); 1 if a child exits on its own first."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        for proc in children:
            if proc.poll() is not None:
                print(f"{' '.join(proc.args[3:5])} exited with code {proc.returncode}; stopping", file=sys.stderr)
                return 1
    print("stopping …", flush=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """A Prefect worker for the pool, against the configured PREFECT_API_URL, until Ctrl-C."""
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        print("no Prefect server configured: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api, "
              "as printed by `xxgk server`)", file=sys.stderr)  # fmt: skip
        return 2
    s = get_settings()
    limit = args.limit or s.server.worker_limit or s.pipeline.flow_runs
    proc = _start(_worker_command(args.pool or s.pipeline.work_pool, limit), _worker_env(api, None, None, None))
    try:
        return _supervise([proc])
    finally:
        _stop(proc)


def _version() -> str:
    from importlib.metadata import version

    from tasks.schema import SCHEMA_VERSION

    return f"xxgk {version('xxgk-pipeline')} (parquet schema {SCHEMA_VERSION}, prefect {version('prefect')})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__)
    parser.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="extract one report and print its cells as JSON")
    p.add_argument("path", help="a local file (PDF, HTML, DOCX or text), or s3://bucket/key")
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("extract-all", help="extract every source.* file under a folder into JSON files")
    p.add_argument("folder", help="a folder searched recursively for files named source.* (e.g. tests/fixtures/samples)")
    p.add_argument("--output", default="output/extract", help="folder receiving one <parent folder>.json per file (default output/extract)")
    p.set_defaults(func=cmd_samples)
    p = sub.add_parser("ingest", help="run the ingest flow once: SOURCE (folder or s3://bucket/prefix) into DEST")
    p.add_argument("source", help="where the uploads are: a folder or s3://bucket/prefix (never written)")
    p.add_argument("--output", "-o", required=True, help="a folder or s3://bucket/prefix")
    p.add_argument("--prefix", default="", help="only keys under this prefix of SOURCE")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("run", help="the main job on embedded defaults: seed a local bucket with the samples, ingest it")
    p.add_argument("--seed", default="tests/fixtures/samples", help="folder of sample reports (*/source.*)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("snapshot", help="write the plain-parquet snapshot of DEST's current rows, replacing the last")
    p.add_argument("--output", "-o", default=None, help="a folder or s3://bucket/prefix (default XXGK_OUTPUT)")
    p.set_defaults(func=cmd_snapshot)
    p = sub.add_parser("maintain", help="compact, checkpoint and vacuum DEST's Delta tables (safe while writers run)")
    p.add_argument("--output", "-o", default=None, help="a folder or s3://bucket/prefix (default XXGK_OUTPUT)")
    p.set_defaults(func=cmd_maintain)
    p = sub.add_parser("watch", help="turn uploads into batched ingest runs (SQS notifications or polling)")
    p.add_argument("source", help="a folder or s3://bucket/prefix")
    p.add_argument("--output", "-o", required=True, help="a folder or s3://bucket/prefix")
    p.add_argument("--queue", help="SQS queue URL receiving the bucket's ObjectCreated notifications")
    p.add_argument("--prefix", default="", help="only keys under this prefix of SOURCE (polling)")
    p.add_argument("--max-batches", type=int, default=None, help="stop after this many batches (default: run until stopped)")
    p.set_defaults(func=cmd_watch)
    p = sub.add_parser("server", help="a local Prefect server with its UI, the deployments and a worker, until Ctrl-C")
    p.add_argument("--port", type=int, default=None, help="API and UI port (default 4200, XXGK_SERVER_PORT)")
    p.add_argument("--source", help="a folder or s3://bucket/prefix (default XXGK_SOURCE)")
    p.add_argument("--output", "-o", help="a folder or s3://bucket/prefix (default XXGK_OUTPUT)")
    p.set_defaults(func=cmd_server)
    p = sub.add_parser("worker", help="a Prefect worker running the deployments' flow runs (needs PREFECT_API_URL)")
    p.add_argument("--pool", default=None, help="work pool (default xxgk-process, XXGK_WORK_POOL)")
    p.add_argument("--limit", type=int, default=None, help="flow runs at a time (default XXGK_FLOW_RUNS, 2)")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:  # Prefect configures its own console logging for the flow commands
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        print(f"xxgk: {exc.type}: {exc}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except BrokenPipeError:  # `xxgk extract … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
