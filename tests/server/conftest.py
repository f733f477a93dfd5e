"""What the API tests share: a service on each database, and a signed-up runner's bearer header."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from soleware.server.app import create_app
from soleware.server.config import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def client(database_url):
    with TestClient(create_app(Settings(database_url=database_url))) as c:
        yield c


@pytest.fixture
def ada(client):
    r = client.post("/api/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def sign_up(client):
    """Signs a runner up and in: ``sign_up(email, **profile)`` gives their bearer header."""

    def _sign_up(email: str, **extra: str) -> dict[str, str]:
        r = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, **extra})
        assert r.status_code == 201, r.text
        r = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return _sign_up
