"""Fresh AWS resources from infra/resources.yaml inside moto, for functional tests."""
from __future__ import annotations

import contextlib

import boto3
from moto import mock_aws

import infra.local.moto_patch  # noqa: F401  (fast, faithful transactions; see the module)
from infra.provision import provision
from chalicelib.gateways import aws
from chalicelib.store import accounts
from chalicelib.store import faults


def reset_resources() -> None:
    """Drops and recreates everything (inside an active mock)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    aws.reset()
    accounts.forget_cached_owners()
    faults.disarm_all()
    provision(None, region="us-east-1")


@contextlib.contextmanager
def moto_resources():
    with mock_aws():
        reset_resources()
        try:
            yield
        finally:
            faults.disarm_all()
            aws.reset()
