"""Property-based fuzzing of every JSON API operation from the OpenAPI document (Schemathesis):
whatever the input, the answer is never a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from harbour.core.choices import ApiScope


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_api_never_answers_with_a_server_error(app, make_user, token_for):
    headers = token_for(make_user("hotline_supervisor"), scopes=ApiScope.codes())
    operations = _operations(app)
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        fuzz()
