"""Sign-in throttling through the API: one budget for every app instance on a database, per address and account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from soleware.server.app import create_app
from soleware.server.config import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def apps(database_url):
    """Two app instances on one database, like two workers or replicas (1 min backoff: no timing in tests)."""
    settings = Settings(database_url=database_url, sign_in_base_delay_s=60.0)
    a, b = create_app(settings), create_app(settings)
    with TestClient(a) as ca:
        ca.post("/api/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    yield a, b


def client(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def sign_in(c: TestClient, email: str, password: str) -> int:
    return c.post("/api/auth/signin", json={"email": email, "password": password}).status_code


def test_two_app_instances_share_one_budget(apps):
    a, b = (client(app, "198.51.100.7") for app in apps)
    answers = [sign_in((a, b)[i % 2], "ada@example.com", "not the password") for i in range(12)]
    assert answers == [401] * 5 + [429] * 7
    r = b.post("/api/auth/signin", json={"email": "ada@example.com", "password": "not the password"})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60


def test_one_password_against_many_accounts_is_slowed(apps):
    a, b = (client(app, "198.51.100.8") for app in apps)
    answers = [sign_in((a, b)[i % 2], f"runner{i}@example.com", "Summer2026!") for i in range(10)]
    assert answers == [401] * 5 + [429] * 5


def test_the_runner_is_not_locked_out_by_someone_elses_wrong_attempts(apps):
    home = client(apps[0], "192.0.2.10")
    assert sign_in(home, "ada@example.com", PASSWORD) == 200  # the runner's phone, as every week
    attackers = [client(apps[i % 2], f"203.0.113.{i}") for i in range(10)]
    answers = [sign_in(c, "ada@example.com", f"guess {i}") for i, c in enumerate(attackers)]
    assert answers == [401] * 5 + [429] * 5
    # the runner at home, on either instance, is let in at once; the account budget still holds strangers back
    assert sign_in(client(apps[1], "192.0.2.10"), "ada@example.com", PASSWORD) == 200
    assert sign_in(client(apps[1], "203.0.113.99"), "ada@example.com", PASSWORD) == 429
