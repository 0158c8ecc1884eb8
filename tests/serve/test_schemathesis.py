"""Schemathesis over the OpenAPI schema: generated requests (valid and invalid) never get a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from serve_testkit import KEY

EXAMPLES = 40  # per operation; the schema is small, and 2 cores must finish the suite in minutes


def test_no_server_errors(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"X-API-Key": KEY}, checks=[not_a_server_error])

        call()
