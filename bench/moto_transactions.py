"""moto TransactWriteItems throughput, patched (infra.local.moto_patch) vs unpatched.

    .venv/bin/python bench/moto_transactions.py [--write-doc] [--quick]

For each mode (in-process ``mock_aws``; ``ThreadedMotoServer`` over HTTP in this
process) and each moto flavour (patched / unpatched), measures transactions per second
for 1-item and 6-item transactions (ADD updates of distinct items) on an empty table
and on a 5,000-item table. Unpatched moto deep-copies the whole table per item, so it
gets a smaller N on the big table. Then a race check: two writer threads against the
server while a third loops on failing transactions; counts lost writes.

``--write-doc`` replaces the "## moto transactions" section of docs/BENCHMARKS.md
(creating the file if needed) with the results and the machine's description.
Never part of CI.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.update({'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing',
                   'AWS_DEFAULT_REGION': 'us-east-1'})
for _name in [n for n in os.environ if n.startswith('AWS_ENDPOINT_URL')]:
    del os.environ[_name]

import boto3  # noqa: E402
import moto  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from infra.local import moto_patch  # noqa: E402
from infra.local.util import free_port  # noqa: E402

import logging  # noqa: E402

logging.getLogger('werkzeug').setLevel(logging.WARNING)

REGION, ACCOUNT = 'us-east-1', '123456789012'
BIG = 5000
DOC = os.path.join(ROOT, 'docs', 'BENCHMARKS.md')
SECTION = '## moto transactions'


def S(v: str) -> dict:
    return {'S': v}


def make_table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, BillingMode='PAY_PER_REQUEST',
                     KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'},
                                {'AttributeName': 'sk', 'KeyType': 'RANGE'}],
                     AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'},
                                           {'AttributeName': 'sk', 'AttributeType': 'S'}])


def fill(name: str, n: int) -> None:
    table = dynamodb_backends[ACCOUNT][REGION].get_table(name)
    for i in range(n):
        table.put_item({'pk': S(f'FILL#{i // 50}'), 'sk': S(f'{i:020d}'), 'blob': S('x' * 100)})


def tx_rate(ddb, name: str, ops: int, n: int) -> float:
    items = lambda: [{'Update': {  # noqa: E731
        'TableName': name, 'Key': {'pk': S(f'ACC#{j}'), 'sk': S('BTC')},
        'UpdateExpression': 'ADD available :one',
        'ExpressionAttributeValues': {':one': {'N': '1'}}}} for j in range(ops)]
    ddb.transact_write_items(TransactItems=items())   # warm-up
    t0 = time.perf_counter()
    for _ in range(n):
        ddb.transact_write_items(TransactItems=items())
    return n / (time.perf_counter() - t0)


def measure(mode: str, patched: bool, quick: bool) -> dict:
    (moto_patch.apply if patched else moto_patch.unapply)()
    n_small = 50 if quick else 300
    n_big = n_small if patched else (3 if quick else 10)
    results: dict = {}
    with mock_aws():
        server = None
        if mode == 'server':
            port = free_port()
            server = ThreadedMotoServer('127.0.0.1', port, verbose=False)
            server.start()
            ddb = boto3.client('dynamodb', region_name=REGION, endpoint_url=f'http://127.0.0.1:{port}')
        else:
            ddb = boto3.client('dynamodb', region_name=REGION)
        try:
            make_table(ddb, 'empty')
            make_table(ddb, 'big')
            fill('big', BIG)
            for ops in (1, 6):
                results[('empty', ops)] = (tx_rate(ddb, 'empty', ops, n_small), n_small)
                results[('5k', ops)] = (tx_rate(ddb, 'big', ops, n_big), n_big)
        finally:
            if server:
                server.stop()
    moto_patch.apply()
    return results


def race(patched: bool, n_writes: int = 150) -> tuple[int, int, int, int]:
    """(lost puts, lost increments, cancelled transactions, HTTP 500 answers) while a
    third thread loops on failing transactions."""
    (moto_patch.apply if patched else moto_patch.unapply)()
    werkzeug_log = logging.getLogger('werkzeug')
    werkzeug_log.setLevel(logging.CRITICAL)   # unpatched moto 500s: counted, not printed
    try:
        with mock_aws():
            port = free_port()
            server = ThreadedMotoServer('127.0.0.1', port, verbose=False)
            server.start()
            cfg = Config(retries={'max_attempts': 1})
            mk = lambda: boto3.client('dynamodb', region_name=REGION, config=cfg,  # noqa: E731
                                      endpoint_url=f'http://127.0.0.1:{port}')
            try:
                ddb = mk()
                make_table(ddb, 'race')
                stop = threading.Event()
                failed = [0]
                server_errors = [0]

                def writer(w: int) -> None:
                    c = mk()
                    for i in range(n_writes):
                        c.put_item(TableName='race', Item={'pk': S(f'W{w}'), 'sk': S(f'{i:05d}')})
                        c.update_item(TableName='race', Key={'pk': S('CTR'), 'sk': S(f'W{w}')},
                                      UpdateExpression='ADD n :one',
                                      ExpressionAttributeValues={':one': {'N': '1'}})

                def spoiler() -> None:
                    c = mk()
                    k = 0
                    while not stop.is_set():
                        k += 1
                        try:
                            c.transact_write_items(TransactItems=[
                                {'Put': {'TableName': 'race', 'Item': {'pk': S('T'), 'sk': S(str(k))}}},
                                {'ConditionCheck': {'TableName': 'race',
                                                    'Key': {'pk': S('NONE'), 'sk': S('x')},
                                                    'ConditionExpression': 'attribute_exists(pk)'}}])
                        except ClientError as exc:
                            if exc.response['ResponseMetadata'].get('HTTPStatusCode', 0) >= 500:
                                server_errors[0] += 1
                            else:
                                failed[0] += 1

                sp = threading.Thread(target=spoiler)
                ws = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
                sp.start()
                for t in ws:
                    t.start()
                for t in ws:
                    t.join()
                stop.set()
                sp.join()
                lost_puts = lost_incr = 0
                for w in range(2):
                    got = ddb.query(TableName='race', KeyConditionExpression='pk = :p',
                                    ExpressionAttributeValues={':p': S(f'W{w}')},
                                    Select='COUNT')['Count']
                    lost_puts += n_writes - got
                    item = ddb.get_item(TableName='race',
                                        Key={'pk': S('CTR'), 'sk': S(f'W{w}')}).get('Item', {})
                    lost_incr += n_writes - int(item.get('n', {'N': '0'})['N'])
                return lost_puts, lost_incr, failed[0], server_errors[0]
            finally:
                server.stop()
    finally:
        werkzeug_log.setLevel(logging.WARNING)
        moto_patch.apply()


def machine() -> str:
    cpu = platform.processor() or ''
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            m = re.search(r'model name\s*:\s*(.+)', f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    mem = ''
    try:
        with open('/proc/meminfo', encoding='utf-8') as f:
            kb = int(re.search(r'MemTotal:\s*(\d+)', f.read()).group(1))  # type: ignore[union-attr]
            mem = f', {kb / 1024 / 1024:.0f} GiB RAM'
    except (OSError, AttributeError):
        pass
    load = ' / '.join(f'{x:.1f}' for x in os.getloadavg())
    return (f'{os.cpu_count()} cores (nproc) {cpu}{mem}; Python {platform.python_version()}; '
            f'moto {moto.__version__}; {platform.system()} {platform.release()}; '
            f'load average at the end {load} (the machine is shared: numbers are noisy)')


def render(results: dict, races: dict, quick: bool) -> str:
    lines = [SECTION, '',
             'TransactWriteItems per second, 1 and 6 ADD updates per transaction, on an empty table',
             f'and on a table of {BIG:,} items; patched = `infra.local.moto_patch` (per-item',
             'snapshots + serialized DynamoDB requests), unpatched = moto as released.',
             'Reproduce: `make bench-moto` (or `.venv/bin/python bench/moto_transactions.py --write-doc`).',
             '',
             f'Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on: {machine()}.'
             + (' (--quick)' if quick else ''), '',
             '| mode | moto | tx(1) empty | tx(1) 5k items | tx(6) empty | tx(6) 5k items |',
             '|---|---|---|---|---|---|']
    for (mode, patched), r in results.items():
        cells = [f'{r[(size, ops)][0]:,.1f} (N={r[(size, ops)][1]})'
                 for ops in (1, 6) for size in ('empty', '5k')]
        lines.append(f'| {mode} | {"patched" if patched else "unpatched"} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Concurrent writes against the server while a third thread loops on failing',
              'transactions (2 writers x 150 puts + 150 ADD increments):', '',
              '| moto | lost puts | lost increments | cancelled transactions meanwhile | HTTP 500s |',
              '|---|---|---|---|---|']
    for patched, (lp, li, ft, se) in races.items():
        lines.append(f'| {"patched" if patched else "unpatched"} | {lp} / 300 | {li} / 300 '
                     f'| {ft} | {se} |')
    lines += ['', 'Unpatched moto also answers some transactions with HTTP 500 under concurrency',
              "(`RuntimeError: dictionary changed size during iteration` in its whole-table",
              'deepcopy while another request writes).']
    lines.append('')
    return '\n'.join(lines)


def write_doc(section: str) -> None:
    text = ''
    if os.path.exists(DOC):
        with open(DOC, encoding='utf-8') as f:
            text = f.read()
    pattern = re.compile(r'^## moto transactions\n.*?(?=^## |\Z)', re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + '\n', text)
    else:
        text = (text.rstrip('\n') + '\n\n' if text.strip() else '') + section
    with open(DOC, 'w', encoding='utf-8') as f:
        f.write(text.rstrip('\n') + '\n')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--write-doc', action='store_true')
    ap.add_argument('--quick', action='store_true', help='small N (a smoke run)')
    args = ap.parse_args()
    results: dict = {}
    for mode in ('in-process', 'server'):
        for patched in (True, False):
            r = measure(mode, patched, args.quick)
            results[(mode, patched)] = r
            print(f'{mode:10} {"patched" if patched else "unpatched":9} ' + '  '.join(
                f'tx({ops}) {size}: {r[(size, ops)][0]:8.1f}/s'
                for ops in (1, 6) for size in ('empty', '5k')), flush=True)
    races = {}
    for patched in (False, True):
        races[patched] = race(patched)
        print(f'race {"patched" if patched else "unpatched"}: lost puts {races[patched][0]}, '
              f'lost increments {races[patched][1]}, cancelled tx {races[patched][2]}, '
              f'HTTP 500s {races[patched][3]}', flush=True)
    section = render(results, races, args.quick)
    print()
    print(section)
    if args.write_doc:
        write_doc(section)
        print(f'updated {DOC}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
