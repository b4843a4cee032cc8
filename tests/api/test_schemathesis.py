"""Property-based API testing with schemathesis over the OpenAPI document: ~1,000 generated requests in
total (spread over every operation), zero server errors (5xx) and zero responses that break the documented
schema. Requests carry a clinician's token, and CDS Hooks calls a freshly signed CDS client JWT, so that
generation reaches the handlers rather than stopping at authentication."""

from __future__ import annotations

import math
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from hygeia.governance.smart import register_client
from tests.api.helpers import Hospital, claims, keypair

TOTAL_CASES = 1_000
STREAMS = {"/alerts/stream"}  # server-sent events never end: not request/response operations
ISS = "https://fuzz-ehr.example"

def test_fuzz_api(shared_hospital: Hospital) -> None:
    """Every operation gets ~TOTAL_CASES / (number of operations) generated requests."""
    key = keypair("ES384")
    register_client(shared_hospital.store, ISS, kind="cds", role="clinician", jwks=key.jwks)
    schema = schemathesis.openapi.from_asgi("/openapi.json", shared_hospital.client.app)
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if op.path not in STREAMS]
    examples = math.ceil(1.4 * TOTAL_CASES / len(operations))  # small input spaces yield fewer distinct cases
    user_headers = dict(shared_hospital.auth("clinician"))
    calls: list[str] = []

    for operation in operations:

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            headers = user_headers
            if case.path.startswith("/cds-services/"):
                url = "http://localhost" + case.formatted_path
                headers = {"Authorization": f"Bearer {key.sign(claims(ISS, url))}"}
                if isinstance(case.body, dict) and "fhirServer" in case.body:  # no DNS lookups of random hosts
                    case.body["fhirServer"] = "http://127.0.0.1:9"
            response = case.call(headers=headers)
            calls.append(case.operation.label)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
    assert len(calls) >= TOTAL_CASES, (len(calls), len(operations))
