"""The station's sync agent: one round is pull (central's feed, which also says what central holds), then push
batches until nothing is left or the link fails. Each step is its own short transaction, so a cut link or a killed
process loses at most the batch in flight, which the next round sends again (sealed anew: never a replay).

httpx (encode/httpx) is the HTTP client: a long-kept library with timeouts on every phase of a request, which a
field link needs; the standard library's urllib has one timeout for everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from travesia.biometrics.service import Biometrics
from travesia.core.db import Database
from travesia.core.logging import get_logger
from travesia.core.principal import Principal
from travesia.sync import station
from travesia.sync.schemas import BatchAck, Feed, SamplesAck

log = get_logger("travesia.sync")

CONTENT_TYPE = "application/vnd.travesia.sync"
AGENT = Principal(user_id=None, username="sync:central", roles=frozenset(), via="system")
REGION_PAGES = 20  # per round at most: a first sync of a busy region goes on over the next rounds


@dataclass
class Round:
    pulled: bool = False
    alerts: int = 0
    region_templates: int = 0  # templates of the region's people received
    batches: int = 0
    sent: int = 0
    stored: int = 0
    samples: int = 0  # images sent after their registration
    stored_samples: int = 0
    bytes: int = 0
    error: str | None = None


class Agent:
    def __init__(
        self,
        db: Database,
        key: Ed25519PrivateKey,
        central_url: str,
        *,
        images: bool = True,
        timeout: float = 30.0,
        after_lists: Callable[[list[object]], None] | None = None,
        bio: Biometrics | None = None,  # the station's keys, to keep its region's templates
        http: httpx.Client | None = None,  # tests pass an in-process client
        backoff: tuple[float, float] = (0.0, 0.0),  # after failures: base × 2^n seconds, at most the second value
    ) -> None:
        self.db, self.key, self.images, self.after_lists, self.bio = db, key, images, after_lists, bio
        self.failures, self.next_try = 0, 0.0
        self.backoff_base, self.backoff_max = backoff
        self.last_error: str | None = None
        self.http = http or httpx.Client(
            base_url=central_url.rstrip("/"), timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
        )

    def close(self) -> None:
        self.http.close()

    def run_once(self, *, max_batches: int | None = None, force: bool = False) -> Round:
        """One round, unless the last ones failed and the back-off has not passed (a link down for hours must not
        cost the station a write and a log line every few seconds)."""
        result = Round()
        if not force and time.monotonic() < self.next_try:
            return result
        try:
            self._pull(result)
            while max_batches is None or result.batches < max_batches:
                if not self._push_one(result):
                    break
            while self.images and (max_batches is None or result.batches < max_batches):
                if not self._push_samples(result):  # images taken after their registration was sent
                    break
        except (httpx.HTTPError, RefusedByCentral) as exc:
            result.error = _describe(exc)
            self.failures += 1
            delay = min(self.backoff_base * 2 ** min(self.failures, 16), self.backoff_max)
            self.next_try = time.monotonic() + delay
            if result.error != self.last_error:
                with self.db.transaction() as session:
                    station.record_error(session, result.error)
                log.warning("sync round stopped", extra={"error": result.error, "retry_in_s": round(delay, 1)})
            self.last_error = result.error
        else:
            self.failures, self.next_try, self.last_error = 0, 0.0, None
        return result

    def retry_now(self) -> None:
        """Someone pressed "sync now": the next round runs whatever the back-off says."""
        self.next_try = 0.0

    def _post(self, path: str, blob: bytes) -> httpx.Response:
        response = self.http.post(path, content=blob, headers={"Content-Type": CONTENT_TYPE})
        if response.status_code >= 400:
            raise RefusedByCentral(response.status_code, _problem(response))
        return response

    def _pull(self, result: Round) -> None:
        """Central's feed, and again while it says more of the region's templates wait (a page per request)."""
        for _ in range(REGION_PAGES):
            with self.db.transaction(readonly=True) as session:
                blob = station.feed_request(session, self.key)
            feed = Feed.model_validate_json(self._post("/api/v1/sync/feed", blob).content)
            with self.db.transaction() as session:
                imported = station.apply_feed(session, AGENT, feed, self.bio)
            result.pulled, result.alerts = True, len(feed.alerts)
            if imported and self.after_lists is not None:
                self.after_lists(imported)
            if feed.region is None or self.bio is None:
                return
            result.region_templates += len(feed.region.templates)
            if not feed.region.more:
                return

    def _push_one(self, result: Round) -> bool:
        with self.db.transaction(readonly=True) as session:
            outgoing = station.next_batch(session, self.key, images=self.images)
        if outgoing is None:
            return False
        ack = BatchAck.model_validate_json(self._post("/api/v1/sync/batches", outgoing.blob).content)
        with self.db.transaction() as session:
            station.record_ack(session, ack, outgoing.sample_ids)
        result.batches += 1
        result.sent += outgoing.count
        result.stored += ack.stored
        result.bytes += len(outgoing.blob)
        return True

    def _push_samples(self, result: Round) -> bool:
        with self.db.transaction(readonly=True) as session:
            outgoing = station.next_samples(session, self.key)
        if outgoing is None:
            return False
        ack = SamplesAck.model_validate_json(self._post("/api/v1/sync/samples", outgoing.blob).content)
        with self.db.transaction() as session:
            station.record_ack(session, None, outgoing.sample_ids)
        result.batches += 1
        result.samples += outgoing.count
        result.bytes += len(outgoing.blob)
        result.stored_samples += ack.stored
        return True


class RefusedByCentral(Exception):
    def __init__(self, status: int, problem: str) -> None:
        super().__init__(f"central answered {status}: {problem}")
        self.status, self.problem = status, problem


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        where = ".".join(str(p) for p in detail[0].get("loc", [])[1:])
        return f"{where}: {detail[0].get('msg')}"[:300]
    return str(detail or body)[:300]


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, RefusedByCentral) else f"no link to central ({type(exc).__name__})"
