"""The analyst's network pages: a person's links drawn a hop at a time, and the clusters flagged for a look."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.errors import DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors, query_filter
from travesia.network import repository, service
from travesia.network.schemas import CLUSTER_REASON_LABELS, LINK_KIND_LABELS, ClusterFilter, ClusterReviewIn

router = APIRouter(prefix="/network", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Analyst = Annotated[Principal, Depends(Require(Perm.NETWORK_READ))]


@router.get("/persons/{person_id}")
def person_network(
    request: Request,
    session: DbSession,
    principal: Analyst,
    person_id: uuid.UUID,
    hops: Annotated[int, Query(ge=1, le=service.MAX_HOPS)] = 1,
) -> Response:
    hood = service.neighbourhood(session, principal, person_id, hops)
    if str(person_id) != hood.centre:
        return RedirectResponse(f"/network/persons/{hood.centre}?hops={hops}", status_code=303)
    flagged = {p for c in repository.open_clusters_of(session, hood.centre) for p in c.person_ids}
    context = {
        "hood": hood,
        "names": {n.person_id: n for n in hood.nodes},
        "flagged": flagged,
        "most": service.MAX_HOPS,
        "link_kinds": LINK_KIND_LABELS,
    }
    return render(request, "network/person.html", context)


def _clusters_page(request: Request, session: DbSession, errors: dict[str, str] | None = None) -> Response:
    f, raw, problems = query_filter(request, ClusterFilter)
    errors = {**problems, **(errors or {})}
    clusters, next_after = repository.clusters_page(session, f)
    shown = {p for c in clusters for p in c.person_ids[:MEMBERS_SHOWN]}
    context = {
        "clusters": clusters,
        "f": f,
        "filters": {k: v for k, v in raw.items() if k not in ("after", "state")},
        "next_after": next_after,
        "counts": repository.cluster_counts(session, f),
        "members_shown": MEMBERS_SHOWN,
        "names": repository.labels(session, shown) if shown else {},
        "last_run": repository.latest_run(session),
        "errors": errors or {},
        "reasons": CLUSTER_REASON_LABELS,
    }
    return render(request, "network/clusters.html", context, status_code=422 if errors else 200)


MEMBERS_SHOWN = 100  # a cluster's members named on its card; its network page shows the rest


@router.get("/clusters")
def clusters(request: Request, session: DbSession, _: Analyst) -> Response:
    return _clusters_page(request, session)


@router.post("/clusters/detect")
def detect(session: DbSession, principal: Analyst) -> Response:
    service.detect(session, principal)
    return RedirectResponse("/network/clusters", status_code=303)


@router.post("/clusters/{cluster_id}")
def review(
    request: Request, session: DbSession, principal: Analyst, cluster_id: int, note: Annotated[str, Form()] = ""
) -> Response:
    try:
        service.review_cluster(session, principal, cluster_id, ClusterReviewIn(note=note).note)
    except (ValidationError, DomainError) as error:
        errors = {
            f"cluster-{cluster_id}": message
            for message in field_errors(error, gettext_for(request.state.locale)).values()
        }
        return _clusters_page(request, session, errors)
    return RedirectResponse("/network/clusters", status_code=303)
