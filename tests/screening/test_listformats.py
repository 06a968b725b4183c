"""List formats are modules registered by name and recognised by their content, never by the file's name."""

import io
import json

import pytest

from tests.conftest import token_for
from tests.screening.test_screening import ADMIN, LISTED, jsonl, persons_list  # noqa: F401  (the list fixture)
from travesia.core.errors import InvalidInput
from travesia.core.principal import Role
from travesia.screening import listformats, listing
from travesia.screening.formats import ListFileError

CSV = "Ref,Full name,DOB\nc-1,Jan Pyè Louis,1979\n"
MAPPING = {"id": "Ref", "name": "Full name", "birthDate": "DOB"}
EXAMPLES = {"ftm": (json.dumps(LISTED) + "\n", None), "csv": (CSV, MAPPING)}


def test_every_registered_format_is_recognised_by_its_own_content():
    assert set(EXAMPLES) == set(listformats.FORMATS)  # a new format brings its example here
    for name, (text, mapping) in EXAMPLES.items():
        assert listformats.recognise(text.splitlines()[0], mapping).name == name
        assert len(listformats.read_file(io.StringIO(text), "persons", mapping)) == 1


def test_the_content_decides_not_the_name(session, persons_list):  # noqa: F811
    report = listing.import_list(session, ADMIN, persons_list, jsonl(LISTED), file_name="lista.txt")
    assert report.added == 1
    report = listing.import_list(  # a table named like JSON lines is read as the table it is
        session, ADMIN, persons_list, io.StringIO(CSV), file_name="lista.jsonl", mapping=MAPPING, mode="delta"
    )
    assert report.added == 1


@pytest.mark.parametrize(
    ("text", "mapping", "format_name", "field", "words"),
    [
        ("", None, None, "file", "the file is empty"),
        ("\n\n", None, None, "file", "the file is empty"),
        ('<?xml version="1.0"?><CONSOLIDATED_LIST/>\n', None, None, "file", "not a list format"),
        (CSV, None, None, "file", "needs a column mapping"),
        (CSV, None, "csv", "mapping", "needs a column mapping"),
        (json.dumps(LISTED), None, "yaml", "format", "'yaml' is not a list format"),
        (json.dumps(LISTED), MAPPING, "csv", "header", "no column named"),  # told csv: read as csv
    ],
)
def test_a_file_no_format_reads_is_refused_naming_the_problem(text, mapping, format_name, field, words):
    with pytest.raises(ListFileError) as refused:
        listformats.read_file(io.StringIO(text), "persons", mapping, format_name)
    problem = refused.value.problems[0]
    assert problem.field == field and words in problem.message


def test_blank_lines_before_the_first_entry_keep_line_numbers_true():
    text = "\n\n" + json.dumps(LISTED) + "\n" + json.dumps({**LISTED, "id": ""}) + "\n"
    with pytest.raises(ListFileError) as refused:
        listformats.read_file(io.StringIO(text), "persons", None)
    assert refused.value.problems[0].line == 4


def test_the_api_takes_a_format_or_recognises_it(client, session, persons_list, make_user, auth_ctx):  # noqa: F811
    manager = token_for(make_user, session, auth_ctx, "gestor.listas", Role.ANALYST)
    url = f"/api/v1/watchlists/{persons_list}/versions"
    upload = {"file": ("lista.dat", json.dumps(LISTED).encode(), "application/octet-stream")}
    assert client.post(url, files=upload, headers=manager).status_code == 201
    wrong = client.post(url, files=upload, data={"format": "yaml"}, headers=manager)
    assert wrong.status_code == 422 and "format" in wrong.text
    as_csv = client.post(url, files=upload, data={"format": "csv"}, headers=manager)
    assert as_csv.status_code == 422 and "mapping" in as_csv.text
    with pytest.raises(InvalidInput):  # the service refuses an unknown name too, naming the field
        listing.import_list(session, ADMIN, persons_list, jsonl(LISTED), file_name="l", format_name="yaml")
