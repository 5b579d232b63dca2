"""Quality pages at scale: a batch reads its agencies' quarantine records through the index
(state/quarantine/), never by listing quarantine/; quality/index.html comes from the tables,
never from every agency's document; both say what the documents say."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tasks import pipeline, quarantine
from tasks.agency import agency_id
from tasks.cli import EXIT_QUARANTINED, main
from tasks.quality import QUARANTINE_ID, agency_stats
from tasks.records import ObjectInfo, Quarantined
from tasks.storage import LocalStore

from .conftest import BAD_PDF, sample

HONGZE = "淮安市洪泽区人民政府"


class Counting(LocalStore):
    """A LocalStore that counts the lists and gets made through it, by top-level prefix."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: Counter[tuple[str, str]] = Counter()

    @staticmethod
    def _top(key: str) -> str:
        return key.split("/", 1)[0] + "/"

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        self.calls["list", self._top(prefix)] += 1
        return super().list(prefix)

    def get(self, key: str) -> bytes:
        self.calls["get", self._top(key)] += 1
        return super().get(key)


def _ingest(src: Path, out: Path) -> None:
    assert main(["ingest", str(src), "--output", str(out)]) == EXIT_QUARANTINED


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_quality_reads_the_quarantine_index_and_the_index_page_comes_from_the_tables(tmp_path: Path) -> None:
    src, out = tmp_path / "uploads", tmp_path / "out"
    _write(src / "hongze.pdf", sample("hongze_2024_pdf"))
    _write(src / "洪泽区人民政府" / "bad.pdf", BAD_PDF)  # the folder names the agency: its record is Hongze's
    _write(src / "broken" / "bad2.pdf", BAD_PDF + b"% another\n")  # no published agency: listed apart
    _ingest(src, out)
    _write(src / "shanghai.html", sample("shanghai_office_2019_html"))
    _write(src / "broken" / "bad3.pdf", BAD_PDF + b"% a third\n")
    _ingest(src, out)  # a second run: the index already holds the first run's records

    store = LocalStore(out)
    records = quarantine.read_records(store)
    assert len(records) == 3
    hz = agency_id(HONGZE)
    assert {quarantine.agency_of(q) for q in records} == {hz, agency_id("broken")}

    # a batch's quality documents: the agencies' own records from one scan of the index, no listing
    counting = Counting(out)
    docs = pipeline.write_quality(counting, [hz])
    assert [q["source"] for q in docs[0]["quarantine"]] == [str(src / "洪泽区人民政府" / "bad.pdf")]
    assert counting.calls["list", "quarantine/"] == 0 and counting.calls["get", "quarantine/"] == 0

    # the index: from the tables and the quarantine index; no agency's document is read
    counting = Counting(out)
    stats = pipeline.write_index(counting)
    assert counting.calls["get", "quality/"] == 0 and counting.calls["list", "quality/"] == 0
    assert counting.calls["list", "quarantine/"] == 0
    on_disk = [json.loads(p.read_text("utf-8")) for p in (out / "quality").glob("*.json") if p.stem != QUARANTINE_ID]
    on_disk = [d for d in on_disk if not d["agency_id"].startswith("coverage-")]
    assert sorted(stats, key=lambda s: s.agency_id) == sorted(map(agency_stats, on_disk), key=lambda s: s.agency_id)
    assert len(stats) == 2 and {s.agency_id: s.quarantined for s in stats}[hz] == 1
    assert sum(s.quarantined for s in stats) == 1  # the other agency (Shanghai) has none

    # the files of no published agency are listed once, apart; Hongze's is not listed again there
    _, orphans = pipeline.index_stats(store)
    assert sorted(q.source for q in orphans) == sorted(
        [str(src / "broken" / "bad2.pdf"), str(src / "broken" / "bad3.pdf")]
    )
    page = (out / "quality" / "index.html").read_text("utf-8")
    assert "bad2.pdf" in page and "bad3.pdf" in page
    assert "<b>3</b>个隔离文件" in page and "<b>2</b>个机关" in page  # each file counted once
    orphan_page = (out / "quality" / f"{QUARANTINE_ID}.html").read_text("utf-8")
    assert "bad2.pdf" in orphan_page and "/洪泽区人民政府/bad.pdf" not in orphan_page


def _record(sha: str, at: datetime, hint: str | None = "某某县人民政府", message: str = "bad") -> Quarantined:
    return Quarantined(f"file:///up/{sha}.pdf", sha, "CorruptDocument", message, at, "test", hint)


def test_the_quarantine_index_keeps_one_row_per_file_and_indexes_older_outputs(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "out")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    # an output written before the index existed: JSON records only
    old = [_record("a" * 64, t0), _record("b" * 64, t0, hint=None)]
    for q in old:
        store.put(quarantine.key(q.sha256), json.dumps(q.to_dict()).encode())
    assert {q.sha256 for q in quarantine.read(store)} == {"a" * 64, "b" * 64}  # read from the records

    # the first write indexes the older records too; the same file quarantined again is one record
    again = _record("a" * 64, t0 + timedelta(hours=1), message="bad again")
    assert quarantine.write(store, [again, _record("c" * 64, t0)]) == 2
    assert (tmp_path / "out" / "state" / "quarantine" / "_delta_log").is_dir()
    got = quarantine.read(store)
    assert sorted(q.sha256 for q in got) == ["a" * 64, "b" * 64, "c" * 64]
    assert next(q for q in got if q.sha256 == "a" * 64).message == "bad again"
    quarantine.write(store, [again])  # a rerun appends a row; readers still see one record
    assert sorted(q.sha256 for q in quarantine.read(store)) == ["a" * 64, "b" * 64, "c" * 64]

    aid = agency_id("某某县人民政府")
    assert sorted(q.sha256 for q in quarantine.read(store, [aid])) == ["a" * 64, "c" * 64]
    assert [q.sha256 for q in quarantine.read(store, sources=["file:///up/" + "b" * 64 + ".pdf"])] == ["b" * 64]
    assert quarantine.read(store, [aid], sources=["file:///up/" + "b" * 64 + ".pdf"]) == []
