"""`xxgk extract` as a user runs it: one JSON object on stdout, typed errors with a non-zero exit."""

import json
import os
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def _xxgk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tasks.cli", *args], capture_output=True, text=True, encoding="utf-8", timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_extract_prints_the_contract_json():
    proc = _xxgk("extract", str(SAMPLES / "hongze_2024_pdf" / "source.pdf"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["media"] == "pdf" and out["year"] == 2024 and out["format_version"] == "2021_mixed"
    assert out["agency"] == "淮安市洪泽区人民政府"
    cell = next(c for c in out["cells"] if (c["table"], c["row"], c["col"]) == ("t3", "new_received", "natural_person"))
    assert cell["value"] == 95 and cell["status"] == "reported" and cell["raw"] == "95" and cell["page"] >= 1
    assert {i["rule"] for i in out["issues"]} >= {"STRUCT-03"}
    keys = [(c["table"], c["row"], c["col"]) for c in out["cells"]]
    assert len(keys) == len(set(keys)) == 207


def test_extract_error_is_a_json_object_and_a_non_zero_exit(tmp_path):
    junk = tmp_path / "report.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    proc = _xxgk("extract", str(junk))
    assert proc.returncode != 0
    err = json.loads(proc.stdout)["error"]
    assert err["type"] == "CorruptDocument" and err["message"]
    assert "Traceback" not in proc.stderr


def test_a_document_that_is_not_a_report(tmp_path):
    notice = tmp_path / "notice.txt"
    notice.write_text("关于开展2024年度春季植树活动的通知\n\n各单位：为改善环境，定于三月十二日组织植树。请各单位按时参加。\n", "utf-8")
    proc = _xxgk("extract", str(notice))
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["error"]["type"] == "NotAReport"


def _subcommands() -> dict[str, object]:
    import argparse

    from tasks.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_is_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    table = readme[readme.index("## Commands") : readme.index("## Outputs")]
    missing = [name for name in _subcommands() if f"| `xxgk {name}" not in table]
    assert not missing, f"commands missing from the README's command table: {missing}"
    assert "`xxgk --version`" in table


def test_every_argument_has_help_text():
    import argparse

    from tasks.cli import build_parser

    parsers = {"xxgk": build_parser(), **{f"xxgk {n}": p for n, p in _subcommands().items()}}
    bare = [
        f"{name} {a.dest}"
        for name, p in parsers.items()
        for a in p._actions
        if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction) and not a.help
    ]
    assert not bare, f"arguments without help text: {bare}"


def test_version():
    from importlib.metadata import version

    proc = _xxgk("--version")
    assert proc.returncode == 0 and proc.stdout.strip().startswith(f"xxgk {version('xxgk-pipeline')} (parquet schema ")


def _on_a_terminal(args: list[str], *, raw: bool = False) -> str:
    """What a terminal showed while `python ARGS` ran with stderr on a pseudo-terminal (colours
    and cursor codes removed unless `raw`)."""
    import pty
    import re
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm-256color"},  # a terminal, whatever runs the tests
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(30)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    return text if raw else re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def _extract_all_on_a_terminal(out: Path) -> str:
    return _on_a_terminal(["-m", "tasks.cli", "extract-all", str(SAMPLES), "--output", str(out)])


def test_prefect_log_lines_print_above_the_bar():
    script = (
        "import logging, time\n"
        "import flows.ingest  # Prefect's console logging, as in xxgk ingest\n"
        "from tasks import progress\n"
        "with progress.terminal_progress('extracting'):\n"
        "    progress.add_total(2)\n"
        "    progress.advance(); time.sleep(0.3)\n"
        "    logging.getLogger('prefect.xxgk-test').warning('a line from a task run')\n"
        "    progress.advance(); time.sleep(0.3)\n"
    )
    shown = _on_a_terminal(["-c", script], raw=True)
    assert "a line from a task run" in shown, shown[-2000:]
    before = shown[: shown.index("a line from a task run")]
    last_line = before[before.rindex("\n") + 1 :] if "\n" in before else before
    # the bar's line is cleared (ESC[2K) before the log line is printed; never glued after "left"
    assert "\x1b[2K" in last_line and "left" not in last_line.rsplit("\x1b[2K", 1)[-1], repr(last_line)


def test_progress_bar_on_a_terminal_only(tmp_path):
    n = len(list(SAMPLES.glob("*/source.*")))
    shown = _extract_all_on_a_terminal(tmp_path / "tty")
    assert f"{n}/{n} reports" in shown and "reports/s" in shown, shown[-2000:]
    piped = _xxgk("extract-all", str(SAMPLES), "--output", str(tmp_path / "piped"))
    assert piped.returncode == 0, piped.stderr
    assert "reports/s" not in piped.stderr + piped.stdout and "\x1b[" not in piped.stderr + piped.stdout
    assert piped.stdout.count("cells printed") == n


def test_hints_name_the_virtualenv_commands(monkeypatch, tmp_path):
    from tasks.cli import _bin_dir

    venv_bin = Path(sys.executable).parent
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # the venv not activated
    monkeypatch.chdir(venv_bin.parent.parent)  # the checkout holding .venv/
    assert _bin_dir() == f"{venv_bin.relative_to(venv_bin.parent.parent)}/" == ".venv/bin/"
    monkeypatch.chdir(tmp_path)  # elsewhere: the absolute path
    assert _bin_dir() == f"{venv_bin}/"
    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")  # activated: the bare command
    assert _bin_dir() == ""


def test_maintain_and_snapshot_commands(tmp_path):
    """`xxgk maintain` compacts a folder's tables (exit 6, nothing done, while another run holds the
    lease); `xxgk snapshot` writes the plain-parquet snapshot and names it."""
    sys.path.insert(0, str(Path(__file__).parent / "storage"))
    from writer_process import SAMPLE, item, workload

    from tasks import maintain
    from tasks.extract import extract_path
    from tasks.publish import DatasetWriter, Tables
    from tasks.storage import open_store

    out = tmp_path / "out"
    store, extraction = open_store(str(out)), extract_path(SAMPLE).to_dict()
    for batch in workload(1, 2, 2)[0]:
        DatasetWriter(store).publish([item(extraction, *r) for r in batch])
    lease = maintain.take_lease(store, hours=1)
    busy = _xxgk("maintain", "--output", str(out))
    assert busy.returncode == 6 and "holds" in busy.stderr and "nothing done" in busy.stderr
    assert len(Tables(store).table("cells").file_uris()) == 2
    maintain.release_lease(store, lease)
    done = _xxgk("maintain", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:4] == ["cells", "2", "→", "1"]
    assert len(Tables(store).table("cells").file_uris()) == 1
    made = _xxgk("snapshot", "--output", str(out))
    assert made.returncode == 0, made.stderr
    pointer = json.loads((out / "snapshot" / "current.json").read_text())
    assert f"{out}/snapshot/{pointer['id']}/" in made.stdout and "5 reports" in made.stdout  # 2 agencies × 2, shared
    assert pointer["datasets"]["cells"]["2021"]["rows"] == 3 * len(extraction["cells"])  # the current 3 reports' cells
