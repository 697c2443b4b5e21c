"""Property-based fuzzing of the public endpoints from the OpenAPI document (schemathesis):
whatever a client sends, the answer is never a server error."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import LiveServer

PUBLIC_PATHS = r"^/(open311/v2/|api/v1/public/|track/|health)"


def test_public_endpoints_never_answer_with_a_server_error(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json").include(
        path_regex=PUBLIC_PATHS
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, "the public surface is in the OpenAPI document"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def never_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(timeout=10)
            case.validate_response(response, checks=[not_a_server_error])

        never_a_server_error()
