"""Matching as yente does: a FollowTheMoney query against a list's entries (``POST /match/{dataset}``), scored
by our matcher or, on request, by nomenklatura's logic-v2 for comparison."""

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.models import (
    WatchlistEntry,
)
from travesia.screening import formats, repository, scoring, service


# -- matching as yente does --------------------------------------------------------------------------------------
def query_record(query_id: str, properties: dict[str, list[str] | str]) -> scoring.Record:
    """A yente query's properties (FollowTheMoney names) as a Record; values checked by followthemoney."""
    props = {k: v if isinstance(v, list) else [v] for k, v in properties.items()}
    cleaned = formats.clean_entity(0, {"id": query_id, "schema": "Person", "properties": props}, "persons")
    if isinstance(cleaned, formats.Problem):
        raise InvalidInput(
            N_("Query %(id)s: %(problem)s"),
            field=f"queries.{query_id}.{cleaned.field}",
            id=query_id,
            problem=cleaned.message,
        )
    return formats.entry_record(query_id, cleaned.properties)


def match(
    session: Session,
    screener: service.Screener,
    principal: Principal,
    dataset: str,
    queries: dict[str, dict[str, list[str] | str]],
    *,
    limit: int = 5,
    threshold: float | None = None,
    algorithm: str = "travesia",
) -> dict[str, object]:
    wl = repository.watchlist_by_name(session, dataset)
    if wl is None or wl.kind != "persons":
        raise NotFound(N_("No persons list with this name."), field="dataset")
    if algorithm not in ("travesia", "logic-v2"):
        raise InvalidInput(N_("Unknown algorithm: use travesia or logic-v2."), field="algorithm")
    service.sync(session, screener)
    cut = threshold if threshold is not None else wl.threshold
    entries_by_id: dict[str, WatchlistEntry] = {}
    responses: dict[str, object] = {}
    for query_id, properties in queries.items():
        query = query_record(query_id, properties)
        index = screener.indexes[wl.id]
        scored = [scoring.score(query, c, name_count=index.name_count) for c in index.search(query, service.RETRIEVE)]
        if algorithm == "logic-v2":
            scored = _logic_v2(session, query, properties, scored, entries_by_id)
        scored.sort(key=lambda s: -s.probability)
        results = []
        for s in scored[:limit]:
            entry = entries_by_id.get(s.candidate_id) or repository.entry(session, uuid.UUID(s.candidate_id))
            assert entry is not None
            results.append(
                {
                    "id": entry.external_id,
                    "caption": entry.caption,
                    "schema": entry.schema,
                    "properties": entry.properties,
                    "datasets": [wl.name],
                    "score": s.probability,
                    "match": s.probability >= cut,
                    "features": {t.feature: round(t.bits, 3) for t in s.terms},
                    "explanations": {
                        t.feature: {
                            "detail": f"{t.level}: {t.query} ~ {t.candidate}".strip(),
                            "score": round(t.bits, 3),
                        }
                        for t in s.terms
                    },
                }
            )
        responses[query_id] = {
            "status": 200,
            "results": results,
            "total": {"value": len(results), "relation": "eq"},
            "query": {"id": query_id, "schema": "Person", "properties": properties},
        }
    audit.record(
        session,
        principal,
        "watchlist.match",
        record_type="watchlist",
        record_id=wl.id,
        details={"queries": len(queries), "algorithm": algorithm},
    )
    return {"responses": responses, "matcher": {"name": algorithm}, "limit": limit}


def _logic_v2(
    session: Session,
    query: scoring.Record,
    properties: dict[str, list[str] | str],
    scored: list[scoring.Scored],
    entries_by_id: dict[str, WatchlistEntry],
) -> list[scoring.Scored]:
    """OpenSanctions' own scorer on the same candidates, for comparison (slow: tens of comparisons a second with
    many aliases)."""
    from followthemoney import model as ftm
    from nomenklatura.matching import LogicV2
    from nomenklatura.matching.types import ScoringConfig

    q = ftm.get_proxy({"id": query.id, "schema": "Person", "properties": properties})
    out = []
    for s in scored:
        entry = repository.entry(session, uuid.UUID(s.candidate_id))
        assert entry is not None
        entries_by_id[s.candidate_id] = entry
        proxy = ftm.get_proxy({"id": str(entry.id), "schema": entry.schema, "properties": entry.properties})
        result = LogicV2.compare(q, proxy, ScoringConfig.defaults())
        terms = tuple(
            scoring.Term(name, (f.detail or "")[:120], f.score) for name, f in result.explanations.items() if f.score
        )
        out.append(scoring.Scored(s.candidate_id, round(result.score, 4), 0.0, terms, s.name))
    return out
