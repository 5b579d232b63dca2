"""The OCR engines, thin: an image in, text boxes with confidences out. Nothing else calls an engine.

Two engines, both offline (no model download at run time):
- `rapidocr`: RapidOCR with the PP-OCRv4 Chinese detection and recognition models that ship inside
  the `rapidocr_onnxruntime` wheel (ONNX Runtime on the CPU);
- `tesseract`: the Debian `tesseract-ocr` binary with the `chi_sim` language data
  (`tesseract-ocr-chi-sim`), run as a subprocess on a PNG.

`Box` coordinates are pixels of the image given, y down. Which engine is the default is decided by
measurement (bench/ocr_engines.py, docs/ocr.md) and set in `tasks.settings.OcrSettings`.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from tasks.errors import ResourceLimitExceeded

ENGINES = ("rapidocr", "tesseract")


@dataclass(frozen=True)
class Box:
    """One run of text the engine read: axis-aligned pixel box (y down), text, confidence in [0, 1]."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    confidence: float


class Engine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[Box]:
        """Every text box of a BGR or grayscale image."""
        ...

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        """The text of a crop holding one line (recognition only), and its confidence."""
        ...

    def read_number(self, image: np.ndarray, unit: bool = False) -> tuple[str, float]:
        """The text of a crop holding one table cell's number (or dash), and its confidence; `unit`:
        the number is followed by a unit word (元, 件…), to be read as the word it is."""
        ...


class RapidEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 0, max_side: int = 4000) -> None:
        from rapidocr_onnxruntime import RapidOCR

        n = threads if threads > 0 else -1
        # max_side_len: RapidOCR shrinks larger images before detection AND crops the text from the
        # shrunk image; the reader already renders at the resolution it wants, so keep it.
        self._ocr = RapidOCR(
            max_side_len=max_side, text_score=0.3, intra_op_num_threads=n, inter_op_num_threads=1 if n > 0 else -1
        )

    def read(self, image: np.ndarray) -> list[Box]:
        result, _ = self._ocr(_bgr(image), use_cls=False)
        out: list[Box] = []
        for quad, text, score in result or []:
            xs = [p[0] for p in quad]
            ys = [p[1] for p in quad]
            out.append(Box(float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)), str(text), float(score)))
        return out

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        result, _ = self._ocr(_bgr(image), use_det=False, use_cls=False)
        if not result:
            return "", 0.0
        text, score = result[0][0], result[0][1]
        return str(text), float(score)

    def read_number(self, image: np.ndarray, unit: bool = False) -> tuple[str, float]:
        return self.read_line(image)


class TesseractEngine:
    name = "tesseract"

    def __init__(self, threads: int = 0, timeout_s: float = 900.0) -> None:
        exe = shutil.which("tesseract")
        if exe is None:
            raise RuntimeError("the tesseract engine needs the Debian packages tesseract-ocr and tesseract-ocr-chi-sim")
        self._exe = exe
        self._timeout = timeout_s
        self._env = {"OMP_THREAD_LIMIT": str(threads if threads > 0 else 2), "PATH": "/usr/bin:/bin"}

    def _run(self, image: np.ndarray, psm: str, lang: str = "chi_sim") -> str:
        import cv2

        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise ResourceLimitExceeded("the page image could not be encoded for tesseract")
        try:
            proc = subprocess.run(
                [self._exe, "stdin", "stdout", "-l", lang, "--psm", psm, "tsv"],
                input=png.tobytes(), capture_output=True, timeout=self._timeout, env=self._env, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ResourceLimitExceeded(f"tesseract took longer than {self._timeout:.0f} s on one page") from exc
        if proc.returncode != 0:
            raise RuntimeError(f"tesseract failed: {proc.stderr.decode('utf-8', 'replace')[:300]}")
        return proc.stdout.decode("utf-8", "replace")

    def read(self, image: np.ndarray, psm: str = "11", lang: str = "chi_sim") -> list[Box]:
        rows = csv.DictReader(io.StringIO(self._run(image, psm, lang)), delimiter="\t", quoting=csv.QUOTE_NONE)
        words: dict[tuple[str, str, str], list[dict[str, str]]] = {}
        for r in rows:
            if r.get("level") == "5" and (r.get("text") or "").strip():
                words.setdefault((r["block_num"], r["par_num"], r["line_num"]), []).append(r)
        out: list[Box] = []
        for line in words.values():
            # tesseract splits Chinese into one "word" per character: join the words of a line that
            # touch (a gap under one character height) into one run, as a line engine would give them
            run: list[dict[str, str]] = []
            for w in sorted(line, key=lambda r: int(r["left"])):
                if run:
                    prev = run[-1]
                    gap = int(w["left"]) - (int(prev["left"]) + int(prev["width"]))
                    if gap > max(int(prev["height"]), int(w["height"])):
                        out.append(_tess_box(run))
                        run = []
                run.append(w)
            if run:
                out.append(_tess_box(run))
        return out

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        boxes = self.read(image, psm="7")  # one line of text
        if not boxes:
            return "", 0.0
        return "".join(b.text for b in boxes), min(b.confidence for b in boxes)

    def read_number(self, image: np.ndarray, unit: bool = False) -> tuple[str, float]:
        """A cell's number: `eng` (Debian's tesseract-ocr-eng, a dependency of tesseract-ocr), one line.
        `chi_sim` reads a lone digit as nothing (a `3` 40 pixels tall, alone in its crop: empty);
        `eng` reads it, and its errors are still its own, not RapidOCR's. A number followed by a unit
        word is read with `chi_sim`: `eng` has no glyph for 元 and reads it as a digit (`251000元` as
        `2510005`, Shanghai 2019 scanned)."""
        boxes = self.read(image, psm="7", lang="chi_sim" if unit else "eng")
        if not boxes:
            return "", 0.0
        return "".join(b.text for b in boxes), min(b.confidence for b in boxes)


def _tess_box(words: list[dict[str, str]]) -> Box:
    x0 = min(int(w["left"]) for w in words)
    y0 = min(int(w["top"]) for w in words)
    x1 = max(int(w["left"]) + int(w["width"]) for w in words)
    y1 = max(int(w["top"]) + int(w["height"]) for w in words)
    conf = min(max(float(w["conf"]), 0.0) for w in words) / 100
    return Box(x0, y0, x1, y1, "".join(w["text"].strip() for w in words), conf)


def _bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        import cv2

        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


@lru_cache(maxsize=4)
def get_engine(name: str, threads: int = 0) -> Engine:
    """One engine per process and setting (loading RapidOCR's models takes about a second)."""
    if name == "rapidocr":
        return RapidEngine(threads)
    if name == "tesseract":
        return TesseractEngine(threads)
    raise ValueError(f"unknown OCR engine {name!r}; one of {', '.join(ENGINES)}")
