"""Identity resolution use cases: the online step after screening, merges, splits, proposals and undo, replay.

Every change to who-is-who is a decision row with its moves, its evidence and its author (none for the system),
audited in the same transaction; the caller commits."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import Database, utcnow
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.principal import Principal, cli_principal
from travesia.enrolment import reads as enrolment
from travesia.identity import batch, repository, rules
from travesia.models import IdentityDecision
from travesia.screening import scoring
from travesia.screening.service import encounter_record

SYSTEM = cli_principal("identity-step")


# -- online, in the pipeline ---------------------------------------------------------------------------------------
def resolve_encounter(session: Session, encounter_id: uuid.UUID) -> IdentityDecision | None:
    """Compare a new encounter with the earlier encounters the biometric step found or that showed the same
    document; attach it to the strongest person when biometrics and biographics agree beyond doubt, propose it
    when likely, and otherwise leave it its own person. Idempotent: an encounter already attached is left alone."""
    me = enrolment.encounter(session, encounter_id)
    if (
        me is None
        or me.person_id != me.registered_person_id
        or len(repository.encounters_of(session, me.person_id)) > 1
    ):
        return None
    biometric: dict[uuid.UUID, tuple[float | None, float | None]] = {}
    for c in repository.encounter_candidates(session, encounter_id):
        face, finger = biometric.get(c.candidate_id, (None, None))
        biometric[c.candidate_id] = (c.score, finger) if c.modality == "face" else (face, c.score)
    others = set(biometric) | set(repository.holders_of_documents(session, encounter_id))
    others.discard(encounter_id)
    if not others:
        return None
    docs = enrolment.documents_of(session, [encounter_id, *others])
    query = encounter_record(me, docs.get(encounter_id, []))
    persons = repository.person_of(session, others)
    best: dict[str, tuple[float, bool]] = {}
    evidence: dict[str, scoring.Scored] = {}
    for other_id in others:
        other = enrolment.encounter(session, other_id)
        person = persons.get(other_id)
        if other is None or person is None or person == me.person_id:
            continue
        face, finger = biometric.get(other_id, (None, None))
        scored = scoring.score(
            query, encounter_record(other, docs.get(other_id, [])), face_distance=face, finger_score=finger
        )
        key = str(person)
        if key not in best or scored.probability > best[key][0]:
            best[key] = (scored.probability, face is not None or finger is not None)
            evidence[key] = scored
    verdict = rules.online_verdict(best)
    if verdict.person_id is None:
        return None
    target, scored = uuid.UUID(verdict.person_id), evidence[verdict.person_id]
    if verdict.action == "attach":
        return _merge(
            session, SYSTEM, me.person_id, target, "attach", "online", scored.probability, scored.explanation()
        )
    return _propose(session, me.person_id, target, "online", scored.probability, scored.explanation())


# -- decisions -----------------------------------------------------------------------------------------------------
def _propose(
    session: Session,
    source: uuid.UUID,
    target: uuid.UUID,
    origin: str,
    score: float,
    evidence: list[dict[str, object]],
) -> IdentityDecision:
    existing = repository.open_proposal(session, source, target)
    if existing is not None:
        return existing
    decision = repository.add(
        session,
        IdentityDecision(
            kind="merge",
            state="proposed",
            source=origin,
            person_id=target,
            from_person_id=source,
            score=round(score, 4),
            evidence=evidence,
            moves=[],
            encounter_ids=[],
            reason="",
        ),
    )
    audit.record(session, SYSTEM, "identity.propose", record_type="identity_decision", record_id=str(decision.id))
    return decision


def _merge(
    session: Session,
    principal: Principal,
    source: uuid.UUID,
    target: uuid.UUID,
    kind: str,
    origin: str,
    score: float | None,
    evidence: list[dict[str, object]],
    reason: str = "",
) -> IdentityDecision:
    if source == target:
        raise InvalidInput(N_("A person cannot be merged into themselves."), field="into")
    from_person, into_person = repository.person(session, source), repository.person(session, target)
    if from_person is None or into_person is None:
        raise NotFound(N_("No person with this id."), field="person_id")
    if from_person.merged_into_id or into_person.merged_into_id:
        raise Conflict(N_("This person was merged into another; use that person."), field="person_id")
    moves = rules.moves((str(e) for e in repository.encounters_of(session, source)), str(source), str(target))
    from_person.merged_into_id = target
    return _apply(session, principal, moves, kind, origin, target, source, reason, score=score, evidence=evidence)


def _apply(
    session: Session,
    principal: Principal,
    moves: list[rules.Move],
    kind: str,
    origin: str,
    person_id: uuid.UUID,
    from_person_id: uuid.UUID | None,
    reason: str,
    *,
    score: float | None = None,
    evidence: list[dict[str, object]] | None = None,
    undoes: int | None = None,
) -> IdentityDecision:
    """Make the moves, record them as an applied decision by ``principal``, audit it (counts only)."""
    repository.move(session, moves)
    decision = repository.add(
        session,
        IdentityDecision(
            kind=kind,
            state="applied",
            source=origin,
            person_id=person_id,
            from_person_id=from_person_id,
            encounter_ids=[m[0] for m in moves],
            moves=[list(m) for m in moves],
            score=None if score is None else round(score, 4),
            evidence=evidence or [],
            author_id=principal.user_id,
            decided_by_id=principal.user_id,
            reason=reason,
            undoes_id=undoes,
            decided_at=utcnow(),
        ),
    )
    details: dict[str, object] = {"encounters": len(moves), "source": origin}
    if undoes is not None:
        details["undoes"] = undoes
    audit.record(
        session,
        principal,
        f"identity.{kind}",
        record_type="identity_decision",
        record_id=str(decision.id),
        details=details,
    )
    return decision


def merge(
    session: Session, principal: Principal, source: uuid.UUID, target: uuid.UUID, reason: str
) -> IdentityDecision:
    """An analyst's merge of two persons: every encounter of ``source`` goes to ``target``."""
    return _merge(session, principal, source, target, "merge", "manual", None, [], _reason(reason))


def split(
    session: Session, principal: Principal, person_id: uuid.UUID, encounter_ids: Sequence[uuid.UUID], reason: str
) -> IdentityDecision:
    """Some of a person's encounters become a new person; none is lost, and the rest stay."""
    reason = _reason(reason)
    person = repository.person(session, person_id)
    if person is None or person.merged_into_id:
        raise NotFound(N_("No person with this id."), field="person_id")
    theirs = set(repository.encounters_of(session, person_id))
    chosen = set(encounter_ids)
    if not chosen:
        raise InvalidInput(N_("Choose the registrations that belong to another person."), field="encounter_ids")
    if not chosen <= theirs:
        raise InvalidInput(N_("Some of these registrations are not this person's."), field="encounter_ids")
    if chosen == theirs:
        raise InvalidInput(N_("Leave at least one registration with this person."), field="encounter_ids")
    new = repository.new_person(session)
    moves = rules.moves((str(e) for e in chosen), str(person_id), str(new.id))
    return _apply(session, principal, moves, "split", "manual", person_id, new.id, reason)


def accept(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    """An analyst accepts a proposed merge or split: it is applied now, as a decision of its own."""
    proposal = _proposal(session, decision_id)
    if proposal.kind == "split":
        chosen = [uuid.UUID(e) for e in proposal.encounter_ids]
        applied = split(session, principal, proposal.person_id, chosen, reason)
        proposal.state, proposal.decided_by_id, proposal.decided_at = "accepted", principal.user_id, utcnow()
        proposal.reason = applied.reason
        return applied
    applied = _merge(
        session,
        principal,
        proposal.from_person_id,  # type: ignore[arg-type]
        proposal.person_id,
        proposal.kind,
        proposal.source,
        proposal.score,
        proposal.evidence,
        _reason(reason),
    )
    # The proposal stays as it was made; the merge is a decision of its own, so replay keeps the real order.
    proposal.state, proposal.decided_by_id, proposal.decided_at = "accepted", principal.user_id, utcnow()
    proposal.reason = applied.reason
    return applied


def reject(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    proposal = _proposal(session, decision_id)
    proposal.state, proposal.decided_by_id, proposal.decided_at = "rejected", principal.user_id, utcnow()
    proposal.reason = _reason(reason)
    audit.record(session, principal, "identity.reject", record_type="identity_decision", record_id=str(decision_id))
    return proposal


def undo(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    """Put back exactly what a decision moved. Refused while a later decision moved the same encounters again
    (undo that one first), so nothing is ever lost or overwritten."""
    reason = _reason(reason)
    original = repository.decision(session, decision_id, lock=True)
    if original is None:
        raise NotFound(N_("No such decision."), field="decision_id")
    if original.state != "applied" or original.kind == "undo":
        raise Conflict(N_("Only an applied merge or split can be undone."), field="decision_id")
    moves = [tuple(m) for m in original.moves]
    current = repository.person_of(session, (uuid.UUID(m[0]) for m in moves))
    if rules.stale(moves, {str(k): str(v) for k, v in current.items()}):  # type: ignore[arg-type]
        raise Conflict(N_("A later decision moved these registrations again; undo it first."), field="decision_id")
    if original.kind in ("merge", "attach") and original.from_person_id:
        source = repository.person(session, original.from_person_id)
        if source is not None:
            source.merged_into_id = None
    original.state = "undone"
    return _apply(
        session,
        principal,
        rules.reverse(moves),  # type: ignore[arg-type]
        "undo",
        "manual",
        original.from_person_id or original.person_id,
        original.person_id,
        reason,
        undoes=original.id,
    )


def _proposal(session: Session, decision_id: int) -> IdentityDecision:
    proposal = repository.decision(session, decision_id, lock=True)
    if proposal is None:
        raise NotFound(N_("No such decision."), field="decision_id")
    if proposal.state != "proposed":
        raise Conflict(N_("This proposal was already decided."), field="decision_id")
    return proposal


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Give the reason for the decision."), field="reason")
    return reason[:2000]


# -- reading -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayCheck:
    encounters: int
    decisions: int
    differences: list[str]


def replay_check(session: Session) -> ReplayCheck:
    """Rebuild the encounter → person map from registrations and decisions and compare it with the table."""
    registered, current = repository.person_map(session)
    log = repository.applied_moves(session)
    rebuilt = rules.replay(registered, ([tuple(m) for m in moves] for moves in log))  # type: ignore[misc]
    differences = sorted(e for e in current if rebuilt.get(e) != current[e])
    return ReplayCheck(len(current), len(log), differences)


def current_person(session: Session, person_id: uuid.UUID) -> uuid.UUID:
    """The person a (possibly merged) person id stands for now."""
    current = enrolment.current_person_id(session, person_id)
    if current is None:
        raise NotFound(N_("No person with this id."), field="person_id")
    return current


# -- batch, with Splink ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchReport:
    encounters: int
    pairs: int
    merged: int
    proposed_merges: int
    proposed_splits: int


def batch_records(
    session: Session,
) -> tuple[list[batch.Encounterish], dict[str, str], list[tuple[str, str, str]], set[str]]:
    """Every encounter for batch resolution, the current person of each, the biometric findings as bands, and the
    encounters that have a biometric template."""
    records, persons = [], {}
    for (
        eid,
        person,
        given,
        surnames,
        year,
        month,
        day,
        estimated,
        sex,
        nationality,
        group,
        station,
        doc,
    ) in repository.batch_rows(session):
        full = month is not None and day is not None and not estimated
        records.append(
            batch.Encounterish(
                id=str(eid),
                given_names=given,
                surnames=surnames,
                birth_date=f"{year:04d}-{month:02d}-{day:02d}" if full else None,
                birth_year=year,
                sex=sex,
                nationality=nationality,
                document=doc,
                group_id=str(group) if group else None,
                station=str(station),
            )
        )
        persons[str(eid)] = str(person)
    findings = []
    for a, b, modality, score in repository.biometric_pairs(session):
        level = scoring.face_level(score)[0] if modality == "face" else scoring.finger_level(score)[0]
        band = {"very_close": "strong", "close": "strong", "strong": "strong", "near": "weak", "moderate": "weak"}
        if level in band:
            findings.append((str(a), str(b), band[level]))
    return records, persons, findings, {str(e) for e in repository.with_templates(session)}


def run_batch(db: Database, *, backend: str = "duckdb", spark: object = None) -> BatchReport:
    """Resolve every encounter at once and reconcile with the person table: merges above ``batch.AUTOMATIC`` are
    applied as the system's decisions (a supervisor can undo them), likelier-than-not ones are proposed, and a
    person whose registrations the model puts apart gets a split proposal. Nothing is split automatically."""
    with db.transaction(readonly=True) as session:
        records, persons, findings, captured = batch_records(session)
    if len(records) < 2:
        return BatchReport(len(records), 0, 0, 0, 0)
    frame = batch.biometric_columns(batch.features(records), findings, captured)
    result = batch.resolve(frame, backend=backend, spark=spark)
    best = _best_between_persons(result.pairs, persons)
    merges, splits = batch.disagreements(result.clusters, persons)
    merged = proposed = split_proposals = 0
    with db.transaction() as session:
        for group in merges:
            counts = {p: sum(1 for q in persons.values() if q == p) for p in group}
            target = max(sorted(group), key=lambda p: counts[p])
            for source in sorted(group - {target}):
                score = best.get(frozenset((source, target)), 0.0)
                evidence: list[dict[str, object]] = [{"feature": "splink", "level": "pair", "bits": None}]
                if score >= batch.AUTOMATIC:
                    _merge(session, SYSTEM, uuid.UUID(source), uuid.UUID(target), "merge", "batch", score, evidence)
                    merged += 1
                elif score >= batch.PROPOSE:
                    _propose(session, uuid.UUID(source), uuid.UUID(target), "batch", score, evidence)
                    proposed += 1
        for (person,) in (tuple(s) for s in splits):
            clusters: dict[int, list[str]] = {}
            for encounter, p in persons.items():
                if p == person:
                    clusters.setdefault(result.clusters[encounter], []).append(encounter)
            keep = max(clusters.values(), key=len)
            leave = sorted(e for members in clusters.values() if members is not keep for e in members)
            repository.add(
                session,
                IdentityDecision(
                    kind="split",
                    state="proposed",
                    source="batch",
                    person_id=uuid.UUID(person),
                    encounter_ids=leave,
                    moves=[],
                    evidence=[],
                    reason="",
                ),
            )
            split_proposals += 1
        audit.record(
            session,
            SYSTEM,
            "identity.batch",
            details={"encounters": len(records), "merged": merged, "proposed": proposed, "splits": split_proposals},
        )
    return BatchReport(len(records), len(result.pairs), merged, proposed, split_proposals)


def _best_between_persons(pairs: object, persons: dict[str, str]) -> dict[frozenset[str], float]:
    best: dict[frozenset[str], float] = {}
    for a, b, p in zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True):  # type: ignore[index]
        key = frozenset((persons[a], persons[b]))
        if len(key) == 2 and p > best.get(key, 0.0):
            best[key] = float(p)
    return best


# -- linking a partner's file ----------------------------------------------------------------------------------
LINK_COLUMNS = ("id", "given_names", "surnames")


def read_partner_file(path: Path) -> list[batch.Encounterish]:
    """A CSV with ``id, given_names, surnames`` and optionally ``birth_date`` (YYYY-MM-DD or YYYY), ``sex``,
    ``nationality`` (alpha-3) and ``document``. The whole file is checked first; a problem names line and column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in LINK_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(
                N_("The file lacks required columns: %(columns)s."), field="file", columns=", ".join(missing)
            )
        out, seen = [], set()
        for line, row in enumerate(reader, start=2):
            out.append(_partner_record(row, line, seen))
    if not out:
        raise InvalidInput(N_("The file has no rows."), field="file")
    return out


def _partner_record(row: dict[str, str], line: int, seen: set[str]) -> batch.Encounterish:
    def bad(column: str, problem: str) -> InvalidInput:
        return InvalidInput(
            N_("Line %(line)s, column %(column)s: %(problem)s"), field=column, line=line, column=column, problem=problem
        )

    rid = (row.get("id") or "").strip()
    if not rid or rid in seen:
        raise bad("id", "missing or repeated")
    seen.add(rid)
    if not (row.get("given_names") or "").strip() and not (row.get("surnames") or "").strip():
        raise bad("surnames", "a name is required")
    born = (row.get("birth_date") or "").strip()
    year = None
    if born:
        try:
            year = date.fromisoformat(born).year if len(born) == 10 else int(born)
        except ValueError:
            raise bad("birth_date", "not YYYY-MM-DD or YYYY") from None
        if not 1900 <= year <= 2100:
            raise bad("birth_date", "year out of range")
    sex = (row.get("sex") or "").strip().upper() or None
    if sex not in (None, "F", "M", "X"):
        raise bad("sex", "use F, M or X")
    nationality = (row.get("nationality") or "").strip().upper() or None
    if nationality is not None and (len(nationality) != 3 or not nationality.isalpha()):
        raise bad("nationality", "use a three-letter code")
    return batch.Encounterish(
        id=f"partner:{rid}",
        given_names=(row.get("given_names") or "").strip(),
        surnames=(row.get("surnames") or "").strip(),
        birth_date=born if len(born) == 10 else None,
        birth_year=year,
        sex=sex,
        nationality=nationality,
        document=(row.get("document") or "").strip() or None,
    )


@dataclass(frozen=True)
class LinkReport:
    records: int
    pairs: int
    linked_records: int


def link_file(db: Database, principal: Principal, path: Path, out: Path, threshold: float = 0.5) -> LinkReport:
    """Link a partner's list against every encounter (the same model, ``link_only``) and write ``pairs.csv``: the
    partner's row id, our encounter and person, and the match probability. Audited (counts only)."""
    theirs = read_partner_file(path)
    with db.transaction(readonly=True) as session:
        ours, persons, _, _ = batch_records(session)
    if not ours:
        raise InvalidInput(N_("There are no registrations to link against."), field="file")
    # trained on our own registrations (a partner's file may be small), then applied across the two
    mine = batch.features(ours)
    result = batch.resolve(mine, other=batch.features(theirs), model=batch.train(mine), threshold=threshold)
    out.mkdir(parents=True, exist_ok=True)
    linked = set()
    with (out / "pairs.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "encounter_id", "person_id", "match_probability"])
        rows = sorted(
            zip(
                result.pairs["unique_id_l"], result.pairs["unique_id_r"], result.pairs["match_probability"], strict=True
            ),
            key=lambda r: -r[2],
        )
        for a, b, p in rows:
            partner, encounter = (a, b) if a.startswith("partner:") else (b, a)
            linked.add(partner)
            writer.writerow([partner.removeprefix("partner:"), encounter, persons[encounter], f"{p:.6f}"])
    with db.transaction() as session:
        audit.record(session, principal, "identity.link_file", details={"records": len(theirs), "pairs": len(rows)})
    return LinkReport(len(theirs), len(rows), len(linked))
