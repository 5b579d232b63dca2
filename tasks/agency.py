"""Agency identity: a stable, letter-first ASCII `agency_id` from the normalised agency name.

Names vary between an agency's own reports (洪泽区人民政府 / 淮安市洪泽区人民政府); an alias
table maps variants onto one canonical name before hashing. The table ships as
`tasks/data/agency_aliases.csv` and can be extended with a CSV of the same shape
(`alias,canonical`) named in settings.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

ID_PREFIX = "ag"
ID_HEX = 12


def normalise_name(name: str) -> str:
    """NFKC, no whitespace, no quotes or brackets around the name."""
    s = "".join(unicodedata.normalize("NFKC", name).split())
    return s.strip("《》<>「」\"'“”")


def _read_aliases(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        alias, canonical = row.get("alias"), row.get("canonical")
        if alias and canonical:
            out[normalise_name(alias)] = normalise_name(canonical)
    return out


@lru_cache(maxsize=8)
def load_aliases(extra: str | None = None) -> Mapping[str, str]:
    """The shipped alias table, extended (and overridden) by the CSV at `extra`."""
    table = _read_aliases(resources.files("tasks").joinpath("data/agency_aliases.csv").read_text("utf-8"))
    if extra:
        table.update(_read_aliases(Path(extra).read_text("utf-8")))
    return table


def canonical_name(name: str, aliases: Mapping[str, str] | None = None) -> str:
    n = normalise_name(name)
    table = load_aliases() if aliases is None else aliases
    seen = {n}
    while n in table and table[n] not in seen:  # follow chains, never loop
        n = table[n]
        seen.add(n)
    return n


def agency_id(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """`ag` + 12 hex digits of SHA-256 of the canonical name: stable, ASCII, never read as a number."""
    digest = hashlib.sha256(canonical_name(name, aliases).encode("utf-8")).hexdigest()
    return ID_PREFIX + digest[:ID_HEX]


def report_id(sha256: str) -> str:
    """A report's id derives from its bytes: the same upload twice is the same report."""
    return "r" + sha256[:24]
