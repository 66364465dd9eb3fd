import pytest

from tests.support.aws import moto_resources


@pytest.fixture(autouse=True)
def aws_resources():
    """Every functional test runs against fresh moto resources built from the template."""
    with moto_resources():
        yield
