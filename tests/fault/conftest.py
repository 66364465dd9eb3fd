import pytest

from tests.support.aws import moto_resources


@pytest.fixture(autouse=True)
def aws_resources():
    """Fresh moto resources from the template for every fault test."""
    with moto_resources():
        yield
