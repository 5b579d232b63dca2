"""Text copied from a PDF viewer: cells right / not_found / wrong per fixture.

Every PDF fixture (tests/fixtures/generated/*/source.pdf, tests/fixtures/samples/*/source.pdf) is
copied the way a viewer copies it (`pdftotext` without `-layout`) and extracted as text; the
committed viewer copies (tests/fixtures/generated/viewer_*/source.txt) are extracted as they are.
Each result is compared cell by cell with the fixture's expected.json (blanks.json applied):
right = status and value exact, not_found = the cell was refused, wrong = anything else (a number
that is not the printed one, a blank for a printed 0, ...). Nothing is asserted; the figures are
printed. `.venv/bin/python bench/viewer_copies.py [--list]` (--list prints each wrong cell).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import _cell_matches, load_expected  # noqa: E402

from tasks.errors import XxgkError  # noqa: E402
from tasks.extract import extract_bytes  # noqa: E402


def _copy(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                          timeout=120).stdout.decode("utf-8")


def cases() -> list[tuple[str, Path, str]]:
    out = []
    for base in ("generated", "samples"):
        for folder in sorted((ROOT / "tests" / "fixtures" / base).iterdir()):
            exp = folder / "expected.json"
            if not exp.exists() or "error" in exp.read_text(encoding="utf-8")[:200]:
                continue
            if (folder / "source.pdf").exists():
                out.append((f"pdftotext {folder.name}", folder, _copy(folder / "source.pdf")))
            elif folder.name.startswith("viewer_"):
                out.append((folder.name, folder, (folder / "source.txt").read_text(encoding="utf-8")))
    return out


def score(folder: Path, text: str) -> tuple[int, int, int, int, list[str]]:
    expected = load_expected(folder)
    try:
        cells = extract_bytes(text.encode("utf-8")).to_dict().get("cells") or []
    except XxgkError as e:  # a refused document: every cell not_found
        cells = []
        print(f"    refused: {type(e).__name__}")
    got = {(c["table"], c["row"], c["col"]): c for c in cells}
    right = nf = wrong = 0
    bad = []
    for e in expected.get("cells") or []:
        k = (e["table"], e["row"], e["col"])
        g = got.get(k)
        if g is not None and _cell_matches(e, g) is None:  # an expected not_found (a table the copy lacks) too
            right += 1
        elif g is None or g.get("status") == "not_found":
            nf += 1
        else:
            wrong += 1
            bad.append(f"    {'/'.join(k)}: {_cell_matches(e, g)}")
    return right, nf, wrong, len(expected.get("cells") or []), bad


def main() -> None:
    show = "--list" in sys.argv
    tot = [0, 0, 0, 0]
    print(f"{'copy':56} {'right':>6} {'not_found':>9} {'wrong':>6} {'cells':>6}")
    for name, folder, text in cases():
        r, n, w, c, bad = score(folder, text)
        tot = [a + b for a, b in zip(tot, (r, n, w, c))]
        print(f"{name:56} {r:6} {n:9} {w:6} {c:6}")
        if show:
            print("\n".join(bad)) if bad else None
    print(f"{'total':56} {tot[0]:6} {tot[1]:9} {tot[2]:6} {tot[3]:6}")


if __name__ == "__main__":
    main()
