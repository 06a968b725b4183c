"""Candidate retrieval: an in-process inverted index from name keys (tokens, consonant skeletons, metaphones, and
adjacent tokens run together) and document numbers to watchlist entries, so a query is scored against a few hundred
entries, not a million. Pure (NumPy); the service keeps it in step with the database.

Ranking is by the summed rarity (IDF) of the keys a query shares with an entry, the usual blocking-by-inverted-index
of record linkage: an entry sharing a rare surname's skeleton outranks thousands sharing "mohammed". Keys held by
more than ``common`` of the entries are used only when a query has nothing rarer."""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Iterable

import numpy as np

from travesia.screening import lexicon, scripts
from travesia.screening import names as N
from travesia.screening.scoring import Record, analysed, document_key

YEAR_WEIGHT = 1.0  # a birth year within one breaks ties among namesakes; it never outweighs a shared name key


def record_keys(record: Record) -> set[str]:
    """A name's keys, and for a name in another script also the Latin spellings its words were seen written as
    (``lexicon``): among a million entries a Hebrew or Korean name shares only common sound keys with its Latin
    spelling, and the entry drowns among the entries sharing more of them."""
    out: set[str] = set()
    for form in analysed(record.names):
        out |= N.keys(form)
        out.update("t:" + token for token in form.tokens)
        if form.script != scripts.LATIN:
            out.update("t:" + latin for token in form.tokens for latin in lexicon.renderings(token))
    return out


def _name_keys(record: Record) -> set[str]:
    return {name_key(form) for form in analysed(record.names) if form.tokens}


def birth_years(record: Record) -> set[int]:
    return {int(iso[:4]) for iso in record.birth_dates if iso[:4].isdigit()}


def name_key(form: N.NameForm) -> str:
    """A name as a value for its frequency: its tokens in order of the alphabet (surnames swapped are the same)."""
    return " ".join(sorted(form.tokens))


class NameCounts:
    """How many entries hold each name, for the term-frequency adjustment (Splink's): an exact match on a name
    that 400 entries share is weaker evidence than one on a name held once. Kept in two fixed hashed tables (a
    count-min sketch, 2 x 2^22 counters, 32 MiB) rather than a dict of millions of strings; a collision can only
    make a name look commoner than it is, never rarer."""

    BITS = 22

    def __init__(self) -> None:
        self.tables = np.zeros((2, 1 << self.BITS), dtype=np.uint32)
        self.total = 0  # sum of counts
        self.squares = 0  # sum of counts squared: total and squares give the mean count a random name sees

    def _slots(self, key: str) -> tuple[int, int]:
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        mask = (1 << self.BITS) - 1
        return digest & mask, (digest >> 32) & mask

    def count(self, key: str) -> int:
        a, b = self._slots(key)
        return int(min(self.tables[0, a], self.tables[1, b]))

    def change(self, key: str, delta: int) -> None:
        """Count a name in (+1) or out (-1)."""
        before = self.count(key)
        a, b = self._slots(key)
        for table, slot in ((0, a), (1, b)):
            self.tables[table, slot] = max(int(self.tables[table, slot]) + delta, 0)
        after = self.count(key)
        self.total += after - before
        self.squares += after * after - before * before

    def mean(self) -> float:
        """The count of the name a random entry holds (size-biased): what the calibration's average u stood for."""
        return self.squares / self.total if self.total else 1.0


class CandidateIndex:
    def __init__(self, common: float = 0.05) -> None:
        self.records: list[Record | None] = []
        self.positions: dict[str, int] = {}
        self.postings: dict[str, array] = {}
        self.documents: dict[str, array] = {}
        self.years: dict[int, array] = {}
        self.common = common
        self.live = 0
        self.names = NameCounts()

    def __len__(self) -> int:
        return self.live

    def add(self, record: Record) -> None:
        """Add or replace (a changed entry gets a new position; the old one becomes a tombstone)."""
        self.remove(record.id)
        position = len(self.records)
        self.records.append(record)
        self.positions[record.id] = position
        self.live += 1
        for key in _name_keys(record):
            self.names.change(key, 1)
        for key in record_keys(record):
            self.postings.setdefault(key, array("i")).append(position)
        for number, _ in record.documents:
            self.documents.setdefault(document_key(number), array("i")).append(position)
        for year in birth_years(record):
            self.years.setdefault(year, array("i")).append(position)

    def add_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    def remove(self, record_id: str) -> None:
        position = self.positions.pop(record_id, None)
        if position is not None:
            record = self.records[position]
            assert record is not None
            for key in _name_keys(record):
                self.names.change(key, -1)
            self.records[position] = None
            self.live -= 1

    def name_count(self, name: str) -> int:
        """How many entries here hold this name (in any order of its parts), for the term-frequency adjustment."""
        return self.names.count(name_key(analysed((name,))[0]))

    def get(self, record_id: str) -> Record | None:
        position = self.positions.get(record_id)
        return None if position is None else self.records[position]

    def search(self, query: Record, k: int = 200) -> list[Record]:
        """Up to ``k`` live entries sharing the rarest keys with the query, best first, and every entry holding
        one of the query's document numbers."""
        total = max(len(self.records), 1)
        found: list[tuple[np.ndarray, float]] = []
        common: list[tuple[np.ndarray, float]] = []
        for key in record_keys(query):
            posting = self.postings.get(key)
            if posting is None:
                continue
            ids = np.frombuffer(posting, dtype=np.int32)
            weight = math.log(total / len(ids)) + (0.5 if key.startswith("t:") else 0.0)
            (common if len(ids) > self.common * total else found).append((ids, weight))
        chosen = found or common
        picked: list[int] = []
        if chosen:
            near = {y + d for y in birth_years(query) for d in (-1, 0, 1)}
            chosen += [(np.frombuffer(self.years[y], dtype=np.int32), YEAR_WEIGHT) for y in near if y in self.years]
            ids = np.concatenate([ids for ids, _ in chosen])
            weights = np.concatenate([np.full(len(ids), w, dtype=np.float32) for ids, w in chosen])
            tally = np.bincount(ids, weights=weights, minlength=len(self.records))
            hits = np.flatnonzero(tally)
            if len(hits) > k:
                hits = hits[np.argpartition(-tally[hits], k)[:k]]
            picked = hits[np.argsort(-tally[hits], kind="stable")].tolist()
        for number, _ in query.documents:
            posting = self.documents.get(document_key(number))
            if posting is not None:
                picked.extend(int(p) for p in posting if p not in picked)
        return [r for p in picked if (r := self.records[p]) is not None]
