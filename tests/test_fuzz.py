"""A bounded fuzz run of every parser of outside input in the suite (bench/fuzz.py's targets, hypothesis choosing
the mutations of valid seeds), and each crash the long runs found, as a regression test. The long runs (1M
executions per parser, coverage-guided) and their figures: docs/benchmarks.md."""

import base64
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import fuzz
from travesia.enrolment.bulk_files import FileProblem, _csv_rows
from travesia.exchange import nist

fuzz.prepare()
SEEDS = {name: fuzz.seeds(name) for name in fuzz.TARGETS}


@pytest.mark.parametrize("target", sorted(fuzz.TARGETS))
def test_mutated_inputs_end_in_the_parsers_own_refusal(target):
    @settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(seed=st.sampled_from(SEEDS[target]), mutations=st.integers(0, 2**32 - 1))
    def one(seed: bytes, mutations: int) -> None:
        fuzz.TARGETS[target](fuzz.mutate(seed, random.Random(mutations)))

    one()


@pytest.mark.parametrize("target", sorted(fuzz.TARGETS))
def test_every_seed_is_valid_input(target):
    """The seeds must reach deep into each parser: a seed refused at once would make the fuzzing shallow."""
    for seed in SEEDS[target]:
        fuzz.TARGETS[target](seed)


def test_nist_file_without_its_record_count_is_refused_not_a_crash():
    """The separator before 1.003 CNT damaged, so the field is not read: the library raised TypeError (71 crashes
    in the outside report)."""
    data = SEEDS["nist"][0]
    start = data.index(b"1.003:")
    with pytest.raises(nist.NistProblem, match="not an ANSI/NIST-ITL transaction"):
        nist.decode(data[: start - 1] + b"\x80" + data[start:])


def test_bulk_csv_with_a_broken_header_is_refused_not_a_crash():
    with pytest.raises(FileProblem, match="line 1"):
        list(_csv_rows(['"id,surnames\n']))


def test_sync_image_of_incomplete_base64_is_refused_by_the_schema():
    item = json.loads(SEEDS["sync"][0][1:])
    item["photo"] = base64.b64encode(b"x" * 10).decode().rstrip("=")
    with pytest.raises(Exception, match="multiple of 4"):
        fuzz.M["BatchItem"].model_validate(item)
    fuzz.target_sync(b"\x00" + json.dumps(item).encode())  # and the whole path refuses it cleanly
