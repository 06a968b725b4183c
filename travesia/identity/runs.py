"""Identity resolution over everything at once: the batch run (Splink on DuckDB, or Spark for central's volumes)
that merges the sure and proposes the rest, and linking a partner's file against every registration. These take a
Database and commit per stage; the online step and the decisions are service."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import evidence
from travesia.core.db import Database
from travesia.core.errors import N_, InvalidInput
from travesia.core.principal import Principal
from travesia.identity import batch, repository, service
from travesia.models import IdentityDecision


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
    for a, b, bits in repository.biometric_pairs(session):
        # the biometric step's own lines: a thousand to one is a strong match, ten to one a weak one
        if bits >= evidence.LIKELY_BITS:
            findings.append((str(a), str(b), "strong" if bits >= evidence.MATCH_BITS else "weak"))
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
                    service.apply_move(
                        session, service.SYSTEM, uuid.UUID(source), uuid.UUID(target), "merge", "batch", score, evidence
                    )
                    merged += 1
                elif score >= batch.PROPOSE:
                    service.propose(session, uuid.UUID(source), uuid.UUID(target), "batch", score, evidence)
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
            service.SYSTEM,
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
