"""infra/resources.yaml is the single source of truth and provision() builds it in moto."""
from __future__ import annotations

import json
import time

import boto3
from moto import mock_aws

from infra.provision import _CfnLoader, load_template, provision

LAMBDA_TIMEOUT = 60


def test_the_template_declares_the_resources_of_the_architecture():
    res = load_template()['Resources']
    table = res['BrokerTable']['Properties']
    assert table['TableName'] == 'broker-main' and table['BillingMode'] == 'PAY_PER_REQUEST'
    assert [k['AttributeName'] for k in table['KeySchema']] == ['pk', 'sk']
    assert {g['IndexName']: g['Projection']['ProjectionType']
            for g in table['GlobalSecondaryIndexes']} == {'gsi1': 'ALL', 'gsi2': 'ALL', 'gsi3': 'ALL'}
    assert table['TimeToLiveSpecification'] == {'AttributeName': 'expires_at', 'Enabled': True}
    assert table['StreamSpecification']['StreamViewType'] == 'NEW_AND_OLD_IMAGES'
    assert table['PointInTimeRecoverySpecification']['PointInTimeRecoveryEnabled'] is True
    for queue, dlq in (('MatchingQueue', 'MatchingDeadLetterQueue'),
                       ('CustodyQueue', 'CustodyDeadLetterQueue')):
        props = res[queue]['Properties']
        assert props['FifoQueue'] is True and props['ContentBasedDeduplication'] is False
        assert props['VisibilityTimeout'] >= 6 * LAMBDA_TIMEOUT
        assert props['RedrivePolicy'] == {'deadLetterTargetArn': {'Fn::GetAtt': [dlq, 'Arn']},
                                          'maxReceiveCount': 5}
        assert res[dlq]['Properties']['FifoQueue'] is True
    assert res['WalletKeyAlias']['Properties']['AliasName'] == 'alias/broker-wallet'
    pab = res['UploadsBucket']['Properties']['PublicAccessBlockConfiguration']
    assert all(pab.values()) and len(pab) == 4


def test_the_yaml_loader_reads_cloudformation_short_form_tags():
    import yaml
    doc = yaml.load('a: !Ref X\nb: !GetAtt Y.Arn\nc: !Sub "${AWS::Region}-x"\n'
                    'd: !Join [",", [1, 2]]\ne: !GetAtt [Z, Name]\n', Loader=_CfnLoader)
    assert doc == {'a': {'Ref': 'X'}, 'b': {'Fn::GetAtt': ['Y', 'Arn']},
                   'c': {'Fn::Sub': '${AWS::Region}-x'}, 'd': {'Fn::Join': [',', [1, 2]]},
                   'e': {'Fn::GetAtt': ['Z', 'Name']}}


def test_provision_creates_every_resource_in_moto_and_reports_names_and_arns(aws_env):
    with mock_aws():
        session = boto3.Session(region_name='us-east-1')
        info = provision(session, bucket_name='uploads-test')
        assert info['env'] == {
            'BROKER_TABLE': 'broker-main', 'MATCHING_QUEUE': 'broker-matching.fifo',
            'MATCHING_DLQ': 'broker-matching-dlq.fifo', 'CUSTODY_QUEUE': 'broker-custody.fifo',
            'CUSTODY_DLQ': 'broker-custody-dlq.fifo', 'UPLOADS_BUCKET': 'uploads-test',
            'WALLET_KMS_KEY': 'alias/broker-wallet'}
        out = info['outputs']
        assert out['BrokerTableArn'].endswith(':table/broker-main')
        assert out['BrokerTableStreamArn'] and out['WalletKeyArn'].startswith('arn:aws:kms:')

        ddb = session.client('dynamodb')
        table = ddb.describe_table(TableName='broker-main')['Table']
        assert sorted(g['IndexName'] for g in table['GlobalSecondaryIndexes']) == ['gsi1', 'gsi2', 'gsi3']
        assert table['StreamSpecification'] == {'StreamEnabled': True,
                                                'StreamViewType': 'NEW_AND_OLD_IMAGES'}
        assert ddb.describe_time_to_live(TableName='broker-main')['TimeToLiveDescription'] == \
            {'TimeToLiveStatus': 'ENABLED', 'AttributeName': 'expires_at'}
        pitr = ddb.describe_continuous_backups(TableName='broker-main')['ContinuousBackupsDescription']
        assert pitr['PointInTimeRecoveryDescription']['PointInTimeRecoveryStatus'] == 'ENABLED'

        sqs = session.client('sqs')
        attrs = sqs.get_queue_attributes(QueueUrl=out['MatchingQueueUrl'],
                                         AttributeNames=['All'])['Attributes']
        assert attrs['FifoQueue'] == 'true' and attrs['ContentBasedDeduplication'] == 'false'
        assert attrs['VisibilityTimeout'] == '360'
        assert json.loads(attrs['RedrivePolicy']) == {
            'deadLetterTargetArn': out['MatchingDeadLetterQueueArn'], 'maxReceiveCount': 5}
        assert out['MatchingQueueArn'] == attrs['QueueArn']

        s3 = session.client('s3')
        assert all(s3.get_public_access_block(Bucket='uploads-test')
                   ['PublicAccessBlockConfiguration'].values())
        kms = session.client('kms')
        key = kms.describe_key(KeyId='alias/broker-wallet')['KeyMetadata']
        assert key['Arn'] == out['WalletKeyArn']


def test_provisioning_twice_is_harmless_and_keeps_the_data(aws_env):
    with mock_aws():
        session = boto3.Session(region_name='us-east-1')
        first = provision(session)
        session.client('dynamodb').put_item(TableName='broker-main',
                                            Item={'pk': {'S': 'x'}, 'sk': {'S': 'y'}})
        second = provision(session)
        assert second['outputs'] == first['outputs']
        assert session.client('dynamodb').scan(TableName='broker-main')['Count'] == 1
        aliases = [a for a in session.client('kms').list_aliases()['Aliases']
                   if a['AliasName'] == 'alias/broker-wallet']
        assert len(aliases) == 1


def test_provisioning_is_fast_enough_to_run_for_every_test(aws_env):
    session = boto3.Session(region_name='us-east-1')
    clients = {name: session.client(name) for name in ('dynamodb', 'sqs', 's3', 'kms')}
    timings = []
    for _ in range(3):
        with mock_aws():
            t0 = time.perf_counter()
            provision(clients)
            timings.append(time.perf_counter() - t0)
    with mock_aws():
        t0 = time.perf_counter()
        info = provision(clients, services={'dynamodb'})
        table_only = time.perf_counter() - t0
    assert set(info['resources']) == {'BrokerTable'}
    assert min(timings) < 0.25, timings       # ~30 ms measured on 2 cores
    assert table_only < 0.1, table_only        # ~8 ms measured


def test_default_clients_are_reused_across_mocks_and_each_mock_starts_empty(aws_env):
    for _ in range(2):
        with mock_aws():
            provision(None, region='us-east-1', services={'dynamodb'})
            ddb = boto3.client('dynamodb', region_name='us-east-1')
            assert ddb.scan(TableName='broker-main')['Count'] == 0
            ddb.put_item(TableName='broker-main', Item={'pk': {'S': 'a'}, 'sk': {'S': 'b'}})
