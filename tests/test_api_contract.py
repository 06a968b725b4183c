"""The API keeps its published contract: schemathesis generates requests from /api/openapi.json for every operation
(valid and invalid data) against a live server, and every answer must be documented (status, content type and
body schema) and none a server error. A bounded number of examples per operation keeps it to a minute or so."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live import cli_env, run_cli, serving
from travesia.auth import accounts
from travesia.auth import service as auth_service
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import load_settings

pytestmark = pytest.mark.xdist_group("servers")  # one server test at a time: two cores, each starts processes

EXAMPLES = 6  # per operation and mode (valid and invalid data): about 1,200 requests in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_api(tmp_path: Path, fresh_database_url: str) -> Iterator[tuple[str, str]]:
    """A server on a database of its own (SQLite or PostgreSQL, as the run), and a token of an account that holds
    every role (so that each operation is exercised past its permission check, not only refused)."""
    folder, url = tmp_path, fresh_database_url
    env = cli_env(url, folder, TRAVESIA_WORKER="false", TRAVESIA_COOKIE_SECURE="false")
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "ERM-API", "--name", "Contrato", "--kind", "reception").returncode == 0
    cfg = load_settings(data_dir=folder, database_url=url)
    ctx = auth_service.AuthContext(cfg, Hasher(1, 1024), Keyring(cfg.keyring_spec))
    db = Database(url)
    with db.transaction() as session:
        data = UserCreate(
            username="contrato.todos",
            display_name="Contrato",
            password="correct horse battery staple 1",
            roles=list(Role),
            stations=["ERM-API"],
        )
        user = accounts.create_user(session, ctx, cli_principal("test"), data)
        principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
        _, token = auth_service.create_token(session, ctx, principal, "contract", 1)
    db.dispose()
    with serving(env, folder / "server.log") as base:
        yield base, token


def test_every_operation_answers_as_documented(live_api):
    base, token = live_api
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def one(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

            try:
                one()
            except Unsatisfiable:
                pass  # nothing of this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as error:  # every operation is tried; failures reported together
                failures[f"{operation.label} ({mode.value})"] = f"{type(error).__name__}: {str(error)[:600]}"
    assert operations >= 90, f"only {operations} operations in the document"
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
