"""Text normalisation and fuzzy label matching shared by every medium (spec §7 V5, V11, V13, V16, V21)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WS = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』〝〞＂＇")
_LIST_MARK = re.compile(r"(?<![0-9])([0-9]{1,2})[、,，]")  # "1、" / "1，" → "1."
_EXTRA = str.maketrans({"〔": "[", "〕": "]", "【": "[", "】": "]", "﹝": "[", "﹞": "]", "．": ".", "。": "."})


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Width-, space- and punctuation-insensitive form of a label.

    NFKC folds full-width forms and Kangxi radicals (（一） → (一), ０ → 0, ⼀ → 一); all
    whitespace goes (labels are wrapped and spaced inside PDF cells); quote marks go
    (curly and straight quotes around 三安全一稳定 differ between copies); list markers
    "1、" become "1.".
    """
    s = unicodedata.normalize("NFKC", text).translate(_EXTRA)
    s = _WS.sub("", s).translate(_QUOTES)
    return _LIST_MARK.sub(r"\1.", s)


def lcs_len(a: str, b: str) -> int:
    """Length of the longest common subsequence of `a` and `b` (bit-parallel, Hyyrö 2004)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def label_score(label: str, text: str) -> float:
    """How well normalised `text` reads as normalised `label`, in [0, 1].

    Coverage (how much of the label is in the text, in order) dominates so lost
    characters (V11: 其他法律行政止公开) and prefixed group labels still match; precision
    (how much of the text is the label) breaks ties against longer, different labels.
    """
    if not label or not text:
        return 0.0
    common = lcs_len(label, text)
    return 0.8 * common / len(label) + 0.2 * common / len(text)


NUMERALS = "一二三四五六七八九十"
HEADING_PREFIX = re.compile(r"^(?:第)?([一二三四五六七八九十]{1,2})(?:、|\.|,|部分)")
