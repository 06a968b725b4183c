"""In-process 1:N indexes: never the source of truth (the database is), persisted beside it, topped up as
templates arrive and rebuilt when lost or stale.

Face: a full scan of compact codes, then exact re-scoring. Each template is kept twice: 128 sign bits of the
centred descriptor (16 bytes; a Hamming scan of a million codes takes a few milliseconds with FAISS's binary flat
index) and the descriptor in float16 (256 bytes) to re-score the best ``shortlist`` exactly. No graph, so no true
mate is lost to a bad graph walk; the shortlist size is chosen by measuring true-mate recall against the exact scan
(bench/biometric_search.py).

Finger: the fixed-length pair-histogram code of each finger (``fingercode``), centred, projected to 512 dimensions
with a fixed random matrix and scanned in full per finger position; the best candidates go to Bozorth3.
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
from dataclasses import dataclass

import numpy as np

from travesia.biometrics import fingercode

KINDS = ("encounter", "watchlist", "region")  # region: a person central sent to a field station
FINGER_PROJECTION = 512
CENTER_AFTER = 50  # templates needed for a stable mean
_PROJECTION_SEED = 20261122  # fixed: the projection must be the same in every process and after every rebuild


@dataclass(frozen=True)
class Entry:
    template_id: int
    subject_kind: str
    subject_id: uuid.UUID
    position: int  # finger position, 0 for faces
    vector: np.ndarray  # face descriptor (128,) or finger code (fingercode.DIMENSIONS,)


@dataclass(frozen=True)
class Hit:
    template_id: int
    subject_kind: str
    subject_id: uuid.UUID
    position: int
    score: float  # face: Euclidean distance (lower is closer); finger: cosine of codes (higher is closer)


class _Store:
    """Growable columns shared by both indexes: ids, subjects, positions, vectors."""

    def __init__(self, width: int, dtype: type) -> None:
        self.n = 0
        self.ids = np.zeros(0, dtype=np.int64)
        self.kinds = np.zeros(0, dtype=np.uint8)
        self.subjects = np.zeros((0, 16), dtype=np.uint8)
        self.positions = np.zeros(0, dtype=np.uint8)
        self.vectors = np.zeros((0, width), dtype=dtype)

    def grow(self, extra: int) -> None:
        need = self.n + extra
        if need <= len(self.ids):
            return
        size = max(need, int(len(self.ids) * 1.5) + 1024)
        for name in ("ids", "kinds", "subjects", "positions", "vectors"):
            old = getattr(self, name)
            new = np.zeros((size, *old.shape[1:]), dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, entries: list[Entry], vectors: np.ndarray) -> None:
        self.grow(len(entries))
        end = self.n + len(entries)
        self.ids[self.n : end] = [e.template_id for e in entries]
        self.kinds[self.n : end] = [KINDS.index(e.subject_kind) for e in entries]
        self.subjects[self.n : end] = np.frombuffer(b"".join(e.subject_id.bytes for e in entries), np.uint8).reshape(
            -1, 16
        )
        self.positions[self.n : end] = [e.position for e in entries]
        self.vectors[self.n : end] = vectors
        self.n = end

    def hit(self, row: int, score: float) -> Hit:
        return Hit(
            template_id=int(self.ids[row]),
            subject_kind=KINDS[self.kinds[row]],
            subject_id=uuid.UUID(bytes=self.subjects[row].tobytes()),
            position=int(self.positions[row]),
            score=float(score),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name)[: self.n] for name in ("ids", "kinds", "subjects", "positions", "vectors")}

    def restore(self, data: dict[str, np.ndarray]) -> None:
        for name in ("ids", "kinds", "subjects", "positions", "vectors"):
            setattr(self, name, np.array(data[name]))
        self.n = len(self.ids)


class _Index:
    """What both indexes share: the columns, the centre (the gallery's mean, fixed once CENTER_AFTER templates are
    in, until the next rebuild), the mark of the newest template loaded, the generation, and persistence."""

    modality = ""

    def __init__(self, shortlist: int, width: int) -> None:
        self.shortlist = shortlist
        self.store = _Store(width, np.float16)
        self.center = np.zeros(width, dtype=np.float32)
        self.centred = False
        self.mark = 0  # highest template id loaded
        self.generation = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.store.n

    def add(self, entries: list[Entry]) -> None:
        if not entries:
            return
        with self.lock:
            self.store.append(entries, self._stored_form(entries))
            if not self.centred and self.store.n >= CENTER_AFTER:
                self.center = self.store.vectors[: self.store.n].astype(np.float32).mean(axis=0)
                self.centred = True
                self._derive(0)  # once: everything derived from the centre is made again
            else:
                self._derive(self.store.n - len(entries))
            self.mark = max(self.mark, max(e.template_id for e in entries))

    def _stored_form(self, entries: list[Entry]) -> np.ndarray:
        raise NotImplementedError

    def _derive(self, start: int) -> None:
        """Recompute what depends on the centre for rows from ``start`` on."""
        raise NotImplementedError

    def dump(self) -> bytes:
        with self.lock:
            return _dump(self.store.arrays(), center=self.center, mark=self.mark, generation=self.generation)

    def restore(self, blob: bytes) -> bool:
        data = _undump(blob)
        if data is None:
            return False
        with self.lock:
            self.store.restore(data)
            self.center = data["center"].astype(np.float32)
            self.centred = bool(np.any(self.center))
            self.mark, self.generation = int(data["mark"]), int(data["generation"])
            self._derive(0)
        return True


class FaceIndex(_Index):
    """Sign bits carry information only around the gallery's mean: dlib descriptors are far from centred (on LFW
    the mean vector's norm is 1.30 for descriptors of norm 1.43)."""

    modality = "face"

    def __init__(self, shortlist: int = 1000, dimensions: int = 128) -> None:
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs its CPU probing at INFO
        import faiss

        super().__init__(shortlist, dimensions)
        self.dimensions = dimensions
        self.codes = faiss.IndexBinaryFlat(-(-dimensions // 8) * 8)  # one sign bit per dimension, whole bytes

    def empty(self) -> FaceIndex:
        return FaceIndex(self.shortlist, self.dimensions)

    def _stored_form(self, entries: list[Entry]) -> np.ndarray:
        return np.stack([e.vector for e in entries]).astype(np.float16)

    def _derive(self, start: int) -> None:
        if start == 0:
            self.codes.reset()
        vectors = self.store.vectors[start : self.store.n].astype(np.float32)
        if len(vectors):
            self.codes.add(np.packbits(vectors - self.center > 0, axis=1))

    def search(self, probe: np.ndarray, k: int = 10) -> list[Hit]:
        with self.lock:
            if self.store.n == 0:
                return []
            probe = np.asarray(probe, dtype=np.float32).reshape(1, -1)
            shortlist = min(self.shortlist, self.store.n)
            _, rows = self.codes.search(np.packbits(probe - self.center > 0, axis=1), shortlist)
            rows = rows[0][rows[0] >= 0]
            exact = np.linalg.norm(self.store.vectors[rows].astype(np.float32) - probe, axis=1)
            order = np.argsort(exact)[:k]
            return [self.store.hit(int(rows[i]), exact[i]) for i in order]

    def exact_search(self, probe: np.ndarray, k: int = 10) -> list[Hit]:
        """The reference: every stored descriptor compared (for measurements and tests)."""
        with self.lock:
            vectors = self.store.vectors[: self.store.n].astype(np.float32)
            exact = np.linalg.norm(vectors - np.asarray(probe, dtype=np.float32).reshape(1, -1), axis=1)
            order = np.argsort(exact)[:k]
            return [self.store.hit(int(i), exact[i]) for i in order]

    def memory_bytes(self) -> int:
        return self.store.n * (8 + 1 + 16 + 1 + self.dimensions * 2 + self.dimensions // 8)


class FingerIndex(_Index):
    """Finger codes share a common shape (ridge geometry); ranking by what differs from the gallery's mean is what
    makes them discriminate (measured on FVC2002 DB1–4 with a prototype: mate first among 319 for 76 % of prints
    raw, 88 % centred). Stored projected but not centred, with each row's norm around the centre."""

    modality = "finger"

    def __init__(self, shortlist: int = 100) -> None:
        super().__init__(shortlist, FINGER_PROJECTION)
        self.norms = np.zeros(0, dtype=np.float32)  # |projected - center| of each row
        rng = np.random.default_rng(_PROJECTION_SEED)
        self.projection = (rng.standard_normal((fingercode.DIMENSIONS, FINGER_PROJECTION)) / 23.0).astype(np.float32)

    def empty(self) -> FingerIndex:
        return FingerIndex(self.shortlist)

    def _stored_form(self, entries: list[Entry]) -> np.ndarray:
        return (np.stack([e.vector for e in entries]).astype(np.float32) @ self.projection).astype(np.float16)

    def _derive(self, start: int) -> None:
        rows = self.store.vectors[start : self.store.n].astype(np.float32)
        fresh = np.maximum(np.linalg.norm(rows - self.center, axis=1), 1e-9)
        self.norms = np.concatenate([self.norms[:start], fresh])

    def search(self, code: np.ndarray, position: int, k: int | None = None) -> list[Hit]:
        """Candidates for one finger among stored fingers of the same position (0: any position), by the cosine
        of the centred codes."""
        k = k or self.shortlist
        with self.lock:
            if self.store.n == 0:
                return []
            vectors = self.store.vectors[: self.store.n]
            query = code.reshape(1, -1).astype(np.float32) @ self.projection - self.center
            query = (query / max(float(np.linalg.norm(query)), 1e-9))[0]
            scores = (vectors @ query.astype(np.float16)).astype(np.float32) - float(self.center @ query)
            scores /= self.norms[: self.store.n]
            if position:
                positions = self.store.positions[: self.store.n]
                scores[(positions != position) & (positions != 0)] = -np.inf
            k = min(k, int(np.isfinite(scores).sum()))
            if k == 0:
                return []
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [self.store.hit(int(i), scores[i]) for i in top]

    def memory_bytes(self) -> int:
        return self.store.n * (8 + 1 + 16 + 1 + 4 + FINGER_PROJECTION * 2)


def _dump(arrays: dict[str, np.ndarray], **extra: object) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{k: np.asarray(v) for k, v in extra.items()})
    return buffer.getvalue()


def _undump(blob: bytes) -> dict[str, np.ndarray] | None:
    """An unreadable dump means: rebuild from the database."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, EOFError):
        return None
