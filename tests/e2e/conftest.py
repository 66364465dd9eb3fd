"""One local stack per test session: patched moto, seeded demo data, REST, WebSocket, pollers."""
import pytest

from infra.local.stack import LocalStack


@pytest.fixture(scope="session")
def stack():
    with LocalStack() as running:
        yield running
