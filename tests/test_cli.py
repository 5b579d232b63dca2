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
