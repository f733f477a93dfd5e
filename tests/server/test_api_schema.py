"""Property-based API tests generated from the OpenAPI schema: no 5xx, every response matches the schema."""

from __future__ import annotations

import tempfile

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from soleware.server.app import create_app
from soleware.server.config import Settings

_DB_DIR = tempfile.TemporaryDirectory(prefix="soleware-schemathesis-")
"""The schema is read when the module is imported, before any fixture: the directory goes when the run ends."""


def _app_and_token():
    app = create_app(Settings(database_url=f"sqlite:///{_DB_DIR.name}/api.db", sign_in_free_attempts=10_000))
    client = TestClient(app)
    client.post("/api/auth/signup", json={"email": "prop@example.com", "password": "property based"})
    token = client.post("/api/auth/signin", json={"email": "prop@example.com", "password": "property based"})
    return app, token.json()["access_token"]


APP, TOKEN = _app_and_token()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # schema-valid but meaningless requests (a stride ending before it starts) are rightly refused with 422,
    # so the "positive data must be accepted" check is the one left out
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
