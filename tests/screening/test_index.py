"""Candidate retrieval and name frequencies (pure, no database)."""

from travesia.screening import scoring
from travesia.screening.formats import claimed_record
from travesia.screening.index import CandidateIndex, NameCounts


def person(i: int, name: str, born: str = "1980") -> scoring.Record:
    return scoring.Record(f"e{i}", (name,), (born,), nationalities=("SYR",), sex="M")


def crowd(common: int) -> CandidateIndex:
    """``common`` entries called Mohammed Ahmed, one Yusuf Haddad, and fillers with made-up names."""
    index = CandidateIndex()
    index.add_all(person(i, "Mohammed Ahmed", str(1950 + i % 50)) for i in range(common))
    index.add(person(10_000, "Yusuf Haddad"))
    index.add_all(person(20_000 + i, f"Zorbo{i} Quilmak{i}") for i in range(200))
    return index


def test_name_counts_follow_additions_and_removals():
    counts = NameCounts()
    for _ in range(3):
        counts.change("ahmed mohammed", 1)
    counts.change("haddad yusuf", 1)
    assert (counts.count("ahmed mohammed"), counts.count("haddad yusuf"), counts.count("nobody")) == (3, 1, 0)
    assert counts.mean() == (9 + 1) / 4  # the count a random entry's name has
    counts.change("ahmed mohammed", -1)
    assert counts.count("ahmed mohammed") == 2 and counts.total == 3


def test_the_index_counts_names_in_any_order_and_forgets_removed_entries():
    index = crowd(40)
    assert index.names.count("ahmed mohammed") == 40
    index.add(scoring.Record("e-ar", ("AHMED Mohammed",), ("1990",)))  # the same name, surname first
    assert index.names.count("ahmed mohammed") == 41
    index.remove("e-ar")
    index.remove("e0")
    assert index.names.count("ahmed mohammed") == 39 and len(index) == 240


def test_retrieval_finds_the_listed_person_under_another_spelling_among_a_crowd():
    index = crowd(40)
    query = claimed_record("q", "Youssef", "Hadad", birth_date="1980")
    found = [r.id for r in index.search(query, k=10)]
    assert found[0] == "e10000" and len(found) <= 10


def test_an_exact_match_on_a_common_name_is_weaker_evidence_than_on_a_rare_one():
    index = crowd(40)
    common = scoring.score(person(0, "Mohammed Ahmed", "1950"), index.get("e0"), name_count=index.name_count)
    rare = scoring.score(person(0, "Yusuf Haddad"), index.get("e10000"), name_count=index.name_count)
    adjustment = {s.candidate_id: next(t for t in s.terms if t.feature == "name_frequency") for s in (common, rare)}
    assert adjustment["e0"].level == "common" and adjustment["e0"].bits < 0
    assert adjustment["e10000"].level == "rare" and adjustment["e10000"].bits > 0
    assert rare.probability > common.probability
    # without the index's frequencies the two exact matches weigh the same
    plain = [
        scoring.score(person(0, n, b), index.get(i)).bits
        for n, b, i in (("Mohammed Ahmed", "1950", "e0"), ("Yusuf Haddad", "1980", "e10000"))
    ]
    assert plain[0] == plain[1]
