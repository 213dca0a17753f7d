"""Fuzzing the network API as a real agency member (with an agreement in force): whatever the input, never a
server error (the global fuzz test runs as a user without an agency, who is refused before any parsing)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from tests.sharing.conftest import make_agreement
from tests.sharing.test_network_access import CATEGORIES, linked  # noqa: F401  (fixture)


@pytest.mark.slow
def test_network_api_never_answers_with_a_server_error(app, db, token_for, linked):  # noqa: F811
    make_agreement(db, level="full", categories=CATEGORIES)
    headers = token_for(linked.analyst["TPS"], scopes=("sharing:read",))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith("/api/v1/sharing/network")]
    assert len(operations) == 3
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def fuzz(case):
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            assert response.status_code < 500

        fuzz()
