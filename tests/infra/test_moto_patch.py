"""The moto patch keeps moto's transaction semantics and removes its two defects."""
from __future__ import annotations

import copy
import json
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from infra.local import moto_patch
from infra.local.util import free_port

ACCOUNT, REGION = '123456789012', 'us-east-1'
KEY_SCHEMA = [{'AttributeName': 'pk', 'KeyType': 'HASH'}, {'AttributeName': 'sk', 'KeyType': 'RANGE'}]
ATTRS = [{'AttributeName': 'pk', 'AttributeType': 'S'}, {'AttributeName': 'sk', 'AttributeType': 'S'}]


def make_table(ddb, name, *, stream=True):
    kwargs = dict(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS,
                  BillingMode='PAY_PER_REQUEST')
    if stream:
        kwargs['StreamSpecification'] = {'StreamEnabled': True, 'StreamViewType': 'NEW_AND_OLD_IMAGES'}
    ddb.create_table(**kwargs)


def S(v):
    return {'S': v}


def N(v):
    return {'N': str(v)}


def test_the_patch_is_applied_to_the_moto_version_it_was_written_for():
    import moto
    assert moto.__version__ == moto_patch.MOTO_VERSION
    assert moto_patch.applied()
    original = moto_patch.original('transact_write_items')
    assert moto_patch._source_sha(original) == moto_patch._ORIGINAL_TRANSACT_SHA256


# --------------------------------------------------------------- same semantics

SEED_ITEMS = [
    {'pk': S('BAL#1'), 'sk': S('BTC'), 'available': N('10'), 'locked': N('0')},
    {'pk': S('BAL#1'), 'sk': S('USDT'), 'available': N('1000.5'), 'locked': N('0')},
    {'pk': S('BAL#2'), 'sk': S('BTC'), 'available': N('1'), 'locked': N('0')},
    {'pk': S('ORD#9'), 'sk': S('META'), 'status': S('NEW')},
]


def _scenarios(t):
    """(name, transact items) with table name t; each is applied to a fresh copy."""
    put_idem = {'Put': {'TableName': t, 'Item': {'pk': S('IDEM#x'), 'sk': S('op1'), 'v': N(1)},
                        'ConditionExpression': 'attribute_not_exists(pk)'}}
    debit = lambda amt, acct='1': {'Update': {  # noqa: E731
        'TableName': t, 'Key': {'pk': S(f'BAL#{acct}'), 'sk': S('BTC')},
        'UpdateExpression': 'ADD available :m, locked :p',
        'ConditionExpression': 'available >= :a',
        'ExpressionAttributeValues': {':m': N(-amt), ':p': N(amt), ':a': N(amt)},
        'ReturnValuesOnConditionCheckFailure': 'ALL_OLD'}}
    check_order = lambda status: {'ConditionCheck': {  # noqa: E731
        'TableName': t, 'Key': {'pk': S('ORD#9'), 'sk': S('META')},
        'ConditionExpression': '#s = :s', 'ExpressionAttributeNames': {'#s': 'status'},
        'ExpressionAttributeValues': {':s': S(status)}}}
    delete_usdt = {'Delete': {'TableName': t, 'Key': {'pk': S('BAL#1'), 'sk': S('USDT')}}}
    new_by_update = {'Update': {'TableName': t, 'Key': {'pk': S('BAL#3'), 'sk': S('ETH')},
                                'UpdateExpression': 'SET available = :z',
                                'ExpressionAttributeValues': {':z': N(5)}}}
    return [
        ('all succeed', [put_idem, check_order('NEW'), debit(3), delete_usdt, new_by_update]),
        ('last fails', [put_idem, delete_usdt, new_by_update, debit(50)]),
        ('first fails, later still evaluated', [debit(50), put_idem, check_order('NEW')]),
        ('condition check fails', [put_idem, check_order('FILLED'), debit(1, '2')]),
        ('two fail', [debit(50), check_order('FILLED'), new_by_update]),
        ('same item twice', [debit(1), put_idem, debit(2)]),
        ('missing table', [put_idem, {'Put': {'TableName': 'nope', 'Item': {'pk': S('a'), 'sk': S('b')}}}]),
        ('type error in update', [put_idem, {'Update': {
            'TableName': t, 'Key': {'pk': S('ORD#9'), 'sk': S('META')},
            'UpdateExpression': 'ADD #s :one', 'ExpressionAttributeNames': {'#s': 'status'},
            'ExpressionAttributeValues': {':one': N(1)}}}]),
        ('replay of a committed idempotency record', [put_idem, debit(1)]),
    ]


def _state(table):
    items = sorted(json.dumps(i.to_json(), sort_keys=True) for i in table.all_items())
    stream = [(r.record['eventName'], json.dumps(r.record['dynamodb'].get('Keys'), sort_keys=True))
              for r in table.stream_shard.items]
    return items, stream


def _outcome(fn, backend, items):
    try:
        fn(backend, copy.deepcopy(items))
        return ('ok', None)
    except Exception as exc:  # noqa: BLE001
        return (type(exc).__name__, getattr(exc, 'description', str(exc)))


def test_a_patched_transaction_has_the_same_outcome_reasons_and_final_state_as_unpatched_moto(aws_env):
    unpatched = moto_patch.original('transact_write_items')
    patched = moto_patch.transact_write_items
    names = [name for name, _ in _scenarios('x')]
    seen = set()
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        backend = dynamodb_backends[ACCOUNT][REGION]
        for i, name in enumerate(names):
            old_t, new_t = f'old{i}', f'new{i}'
            for table in (old_t, new_t):
                make_table(ddb, table)
                for item in SEED_ITEMS:
                    ddb.put_item(TableName=table, Item=item)
            old_items = dict(_scenarios(old_t))[name]
            new_items = dict(_scenarios(new_t))[name]
            if name.startswith('replay'):   # commit the idempotency record first
                unpatched(backend, copy.deepcopy(old_items[:1]))
                patched(backend, copy.deepcopy(new_items[:1]))
            old = _outcome(unpatched, backend, old_items)
            new = _outcome(patched, backend, new_items)
            assert new == old, name
            seen.add(new[0])
            assert _state(backend.get_table(new_t)) == _state(backend.get_table(old_t)), name
    assert seen == {'ok', 'TransactionCanceledException', 'MultipleTransactionsException',
                    'IncorrectDataType'}, seen


def test_a_cancelled_transaction_reports_reasons_in_request_order_and_rolls_back(aws_env):
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        make_table(ddb, 't')
        ddb.put_item(TableName='t', Item={'pk': S('BAL#1'), 'sk': S('BTC'), 'available': N(1)})
        ddb.put_item(TableName='t', Item={'pk': S('ORD#1'), 'sk': S('META'), 'status': S('NEW')})

        def tx(amount):
            return ddb.transact_write_items(TransactItems=[
                {'Put': {'TableName': 't', 'Item': {'pk': S('IDEM#op'), 'sk': S('1')},
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                {'ConditionCheck': {'TableName': 't', 'Key': {'pk': S('ORD#1'), 'sk': S('META')},
                                    'ConditionExpression': 'attribute_exists(pk)'}},
                {'Update': {'TableName': 't', 'Key': {'pk': S('BAL#1'), 'sk': S('BTC')},
                            'UpdateExpression': 'ADD available :m',
                            'ConditionExpression': 'available >= :a',
                            'ExpressionAttributeValues': {':m': N(-amount), ':a': N(amount)},
                            'ReturnValuesOnConditionCheckFailure': 'ALL_OLD'}},
            ])

        with pytest.raises(ClientError) as err:
            tx(2)
        reasons = err.value.response['CancellationReasons']
        assert [r['Code'] for r in reasons] == ['None', 'None', 'ConditionalCheckFailed']
        assert reasons[2]['Item']['available'] == N(1)
        assert 'Item' not in ddb.get_item(TableName='t', Key={'pk': S('IDEM#op'), 'sk': S('1')})

        tx(1)   # commits
        with pytest.raises(ClientError) as err:
            tx(0)   # replay: the idempotency record exists
        assert [r['Code'] for r in err.value.response['CancellationReasons']] == \
            ['ConditionalCheckFailed', 'None', 'None']
        bal = ddb.get_item(TableName='t', Key={'pk': S('BAL#1'), 'sk': S('BTC')})['Item']
        assert bal['available'] == N(0)


def test_a_failed_transaction_leaves_no_stream_records_as_in_unpatched_moto(aws_env):
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        make_table(ddb, 't')
        table = dynamodb_backends[ACCOUNT][REGION].get_table('t')
        ddb.put_item(TableName='t', Item={'pk': S('a'), 'sk': S('1')})
        before = len(table.stream_shard.items)
        with pytest.raises(ClientError):
            ddb.transact_write_items(TransactItems=[
                {'Put': {'TableName': 't', 'Item': {'pk': S('b'), 'sk': S('1')}}},
                {'Delete': {'TableName': 't', 'Key': {'pk': S('a'), 'sk': S('1')}}},
                {'ConditionCheck': {'TableName': 't', 'Key': {'pk': S('zz'), 'sk': S('1')},
                                    'ConditionExpression': 'attribute_exists(pk)'}},
            ])
        assert len(table.stream_shard.items) == before
        assert ddb.scan(TableName='t')['Count'] == 1


# ------------------------------------------------------------------ no slowdown

def _tx_per_second(ddb, n, ops):
    t0 = time.perf_counter()
    for i in range(n):
        ddb.transact_write_items(TransactItems=[
            {'Update': {'TableName': 't', 'Key': {'pk': S(f'ACC#{j}'), 'sk': S('BTC')},
                        'UpdateExpression': 'ADD available :one',
                        'ExpressionAttributeValues': {':one': N(1)}}} for j in range(ops)])
    return n / (time.perf_counter() - t0)


def test_transaction_time_on_a_5000_item_table_is_about_the_same_as_on_an_empty_one(aws_env):
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        make_table(ddb, 't', stream=False)
        _tx_per_second(ddb, 5, 6)  # warm up
        empty = _tx_per_second(ddb, 40, 6)
        table = dynamodb_backends[ACCOUNT][REGION].get_table('t')
        for i in range(5000):
            table.put_item({'pk': S(f'FILL#{i // 50}'), 'sk': S(f'{i:020d}'), 'blob': S('x' * 100)})
        assert len(table.all_items()) >= 5000
        full = _tx_per_second(ddb, 40, 6)
        # unpatched moto: ~110 tx/s empty vs ~2 tx/s at 5,000 items
        assert full > empty / 3, (empty, full)


# -------------------------------------------------------- concurrency (server)

def test_a_failed_transaction_never_undoes_a_concurrent_write(aws_env):
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
    server.start()
    try:
        cfg = Config(retries={'max_attempts': 1}, max_pool_connections=4)
        mk = lambda: boto3.client('dynamodb', region_name=REGION,  # noqa: E731
                                  endpoint_url=f'http://127.0.0.1:{port}', config=cfg)
        ddb = mk()
        make_table(ddb, 'race')
        n_writes = 100
        stop = threading.Event()
        failures: list[int] = []
        errors: list[BaseException] = []

        def writer(w):
            try:
                c = mk()
                for i in range(n_writes):
                    c.put_item(TableName='race', Item={'pk': S(f'W{w}'), 'sk': S(f'{i:05d}')})
                    c.update_item(TableName='race', Key={'pk': S('COUNTER'), 'sk': S(f'W{w}')},
                                  UpdateExpression='ADD n :one', ExpressionAttributeValues={':one': N(1)})
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        def failing_transactions():
            c = mk()
            k = 0
            while not stop.is_set():
                k += 1
                try:
                    c.transact_write_items(TransactItems=[
                        {'Put': {'TableName': 'race', 'Item': {'pk': S('T'), 'sk': S(f'{k}')}}},
                        {'Update': {'TableName': 'race', 'Key': {'pk': S('T'), 'sk': S('ctr')},
                                    'UpdateExpression': 'ADD n :one',
                                    'ExpressionAttributeValues': {':one': N(1)}}},
                        {'ConditionCheck': {'TableName': 'race', 'Key': {'pk': S('NONE'), 'sk': S('x')},
                                            'ConditionExpression': 'attribute_exists(pk)'}},
                    ])
                except ClientError as exc:
                    assert exc.response['Error']['Code'] == 'TransactionCanceledException'
                    failures.append(k)

        spoiler = threading.Thread(target=failing_transactions)
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        spoiler.start()
        for t in writers:
            t.start()
        for t in writers:
            t.join(60)
        stop.set()
        spoiler.join(10)
        assert not errors, errors
        assert len(failures) > 20, 'the failing-transaction thread barely ran'

        for w in range(2):
            got = ddb.query(TableName='race', KeyConditionExpression='pk = :p',
                            ExpressionAttributeValues={':p': S(f'W{w}')}, Select='COUNT')['Count']
            assert got == n_writes, f'lost {n_writes - got} puts of writer {w}'
            counter = ddb.get_item(TableName='race', Key={'pk': S('COUNTER'), 'sk': S(f'W{w}')})['Item']
            assert counter['n'] == N(n_writes), f'lost increments of writer {w}: {counter}'
        assert ddb.query(TableName='race', KeyConditionExpression='pk = :p',
                         ExpressionAttributeValues={':p': S('T')}, Select='COUNT')['Count'] == 0
    finally:
        server.stop()


# ------------------------------------------------------------------- precision

def test_number_arithmetic_keeps_38_significant_digits(aws_env):
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        make_table(ddb, 't', stream=False)
        key = {'pk': S('BAL#1'), 'sk': S('BTC')}
        ddb.put_item(TableName='t', Item={**key, 'v': N('12345678901234567890.123456789012345678'),
                                          'w': N('0')})
        ddb.update_item(TableName='t', Key=key, UpdateExpression='ADD v :d SET w = w - :d',
                        ExpressionAttributeValues={':d': N('0.000000000000000001')})
        item = ddb.get_item(TableName='t', Key=key)['Item']
        assert item['v'] == N('12345678901234567890.123456789012345679')
        assert item['w'] == N('-0.000000000000000001')


def test_an_exponent_form_number_in_update_arithmetic_is_not_a_server_error(aws_env):
    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        make_table(ddb, 't', stream=False)
        key = {'pk': S('BAL#1'), 'sk': S('BTC')}
        ddb.put_item(TableName='t', Item={**key, 'v': N('1')})
        ddb.update_item(TableName='t', Key=key, UpdateExpression='ADD v :d',
                        ExpressionAttributeValues={':d': N('-1E-18')})
        assert ddb.get_item(TableName='t', Key=key)['Item']['v'] == N('0.999999999999999999')


# ------------------------------------------------------------------------- KMS

def test_symmetric_kms_keys_are_created_without_rsa_material_and_still_encrypt(aws_env):
    with mock_aws():
        kms = boto3.client('kms', region_name=REGION)
        t0 = time.perf_counter()
        key_id = kms.create_key()['KeyMetadata']['KeyId']
        assert time.perf_counter() - t0 < 0.5
        blob = kms.encrypt(KeyId=key_id, Plaintext=b'wallet secret')['CiphertextBlob']
        assert kms.decrypt(CiphertextBlob=blob)['Plaintext'] == b'wallet secret'
        rsa = kms.create_key(KeySpec='RSA_2048', KeyUsage='SIGN_VERIFY')['KeyMetadata']['KeyId']
        sig = kms.sign(KeyId=rsa, Message=b'm', SigningAlgorithm='RSASSA_PSS_SHA_256')['Signature']
        assert kms.verify(KeyId=rsa, Message=b'm', Signature=sig,
                          SigningAlgorithm='RSASSA_PSS_SHA_256')['SignatureValid']


# ---------------------------------------------------------------------- queries

def _queries(ddb):
    answers = []
    for pk in ('P#1', 'P#2', 'P#9'):
        for forward in (True, False):
            answers.append(ddb.query(TableName='q', KeyConditionExpression='pk = :p',
                                     ExpressionAttributeValues={':p': S(pk)}, ScanIndexForward=forward,
                                     Limit=7)['Items'])
        answers.append(ddb.query(TableName='q', KeyConditionExpression='pk = :p AND sk BETWEEN :a AND :b',
                                 ExpressionAttributeValues={':p': S(pk), ':a': S('005'), ':b': S('030')},
                                 ConsistentRead=True)['Items'])
    for g in ('G#a', 'G#b'):
        answers.append(ddb.query(TableName='q', IndexName='gsi1', KeyConditionExpression='gsi1pk = :g AND gsi1sk > :s',
                                 ExpressionAttributeValues={':g': S(g), ':s': S('010')},
                                 ScanIndexForward=False)['Items'])
    return answers


def test_a_query_that_reads_only_its_partition_answers_exactly_what_moto_answers(aws_env):
    import random

    from moto.dynamodb.models.table import Table

    with mock_aws():
        ddb = boto3.client('dynamodb', region_name=REGION)
        index_attrs = [{'AttributeName': 'gsi1pk', 'AttributeType': 'S'},
                       {'AttributeName': 'gsi1sk', 'AttributeType': 'S'}]
        ddb.create_table(TableName='q', KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS + index_attrs,
                         BillingMode='PAY_PER_REQUEST', GlobalSecondaryIndexes=[{
                             'IndexName': 'gsi1', 'Projection': {'ProjectionType': 'ALL'},
                             'KeySchema': [{'AttributeName': 'gsi1pk', 'KeyType': 'HASH'},
                                           {'AttributeName': 'gsi1sk', 'KeyType': 'RANGE'}]}])
        rng = random.Random(3)
        for n in range(200):
            item = {'pk': S(f'P#{rng.randint(1, 3)}'), 'sk': S(f'{n:03d}'), 'v': N(rng.randint(0, 9))}
            if rng.random() < 0.6:
                item.update(gsi1pk=S(rng.choice(['G#a', 'G#b'])), gsi1sk=S(f'{rng.randint(0, 99):03d}'))
            ddb.put_item(TableName='q', Item=item)
        fast = _queries(ddb)
        patched, Table.query = Table.query, moto_patch.original('query')
        try:
            slow = _queries(ddb)
        finally:
            Table.query = patched
        assert fast == slow
        assert sum(len(answer) for answer in fast) > 100
