import pytest

import tests.fault.moto_query_speed  # noqa: F401  (queries read one partition, not the whole table)
from tests.support.aws import moto_resources


@pytest.fixture(autouse=True)
def aws_resources():
    """Fresh moto resources from the template for every fault test."""
    with moto_resources():
        yield
