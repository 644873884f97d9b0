"""Fuzz every operation of /openapi.json: no 500, documented bodies, nothing written on a 4xx.

FUZZ_EXAMPLES sets the examples per operation (default 50; the issue's full run is 200).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy import text
from sqlmodel import SQLModel

from lending.db import get_engine
from lending.models.enums import Role
from lending.web.openapi import _path
from tests import factories as f
from tests.web.servicing import book_loan

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
AGENT, ADMIN = "lnd_agent_token", "lnd_fuzz_admin_token"
COUNTED = [t.name for t in SQLModel.metadata.sorted_tables if t.name != "audit_events"]

pytestmark = pytest.mark.slow


def row_counts(conn) -> tuple:
    """Rows of every table but the audit log (refusals are audited on purpose), in one query."""
    columns = ", ".join(f"(SELECT count(*) FROM {name})" for name in COUNTED)
    return tuple(conn.execute(text(f"SELECT {columns}")).one())


def token_for(app, operation) -> str:
    """The retailer agent's token where a retailer may call the operation, else an admin's."""
    for rule in app.url_map.iter_rules():
        if _path(rule.rule) == operation.path and operation.method.upper() in rule.methods:
            roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", ())
            return AGENT if Role.RETAILER in roles else ADMIN
    raise AssertionError(f"no route for {operation.method} {operation.path}")


def fuzz(app, operation, counts: dict) -> None:
    """Run EXAMPLES generated cases against one operation."""
    headers = {"Authorization": f"Bearer {token_for(app, operation)}"}
    engine = get_engine(app)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        with engine.connect() as conn:
            before = row_counts(conn)
        response = case.call(headers={**(case.headers or {}), **headers})
        case.validate_response(response, checks=CHECKS)
        counts[operation.label] = counts.get(operation.label, 0) + 1
        if 400 <= response.status_code < 500:
            with engine.connect() as conn:
                assert row_counts(conn) == before, f"{response.status_code} wrote rows"

    run()


def test_fuzz_every_operation(app, client, setup, backend):
    book_loan(client)  # shop A's loan, so that small ids reach real objects too
    f.ApiTokenFactory(user_id=f.UserFactory(role=Role.ADMIN).id, token=ADMIN)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    counts: dict = {}
    for operation in operations:
        fuzz(app, operation, counts)
    print(
        f"fuzz on {backend}: {len(operations)} operations, {sum(counts.values())} cases "
        f"({EXAMPLES} examples each at most)"
    )
    assert len(operations) >= 15
