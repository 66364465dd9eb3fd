"""Packaging: Chalice's template + infra/resources.yaml + the overlay, accepted by cfn-lint."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.package import OVERLAY_PATH, build_merge_template, deep_merge
from infra.provision import TEMPLATE_PATH, env_bindings, load_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_package(stage, outdir, project_dir=ROOT):
    return subprocess.run(
        [sys.executable, '-m', 'infra.package', stage, str(outdir), '--offline',
         '--project-dir', str(project_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, 'AWS_DEFAULT_REGION': 'us-east-1', 'PYTHONPATH': ROOT})


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, 'app.py')), reason='no app.py yet')
def test_the_real_project_packages_to_a_template_that_cfn_lint_accepts(tmp_path):
    chalice_dir = os.path.join(ROOT, '.chalice')
    before = sorted(os.listdir(chalice_dir))
    result = run_package('prod', tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    sam = json.loads((tmp_path / 'sam.json').read_text())
    resources = sam['Resources']
    for lid in load_template()['Resources']:
        assert lid in resources, f'{lid} from resources.yaml missing in the package'
    assert sam['Parameters']['UploadsBucketName']['Default'] == 'broker-uploads-prod'

    functions = {k: v for k, v in resources.items() if v['Type'] == 'AWS::Serverless::Function'}
    assert functions
    queue_ids = {v['Properties']['QueueName']: k for k, v in resources.items()
                 if v['Type'] == 'AWS::SQS::Queue'}
    for fn_id, fn in functions.items():
        env = fn['Properties']['Environment']['Variables']
        assert env['BROKER_TABLE'] == {'Ref': 'BrokerTable'}, fn_id
        assert env['UPLOADS_BUCKET'] == {'Ref': 'UploadsBucket'}, fn_id
        if 'WebsocketAPI' in resources:
            assert env['WS_API_ID'] == {'Ref': 'WebsocketAPI'}, fn_id
        for ev in (fn['Properties'].get('Events') or {}).values():
            if ev['Type'] != 'SQS':
                continue
            props = ev['Properties']
            assert props['FunctionResponseTypes'] == ['ReportBatchItemFailures'], fn_id
            assert 'Fn::Sub' in props['Queue'], 'the name-based queue ARN must be kept'
            qname = props['Queue']['Fn::Sub'].rsplit(':', 1)[-1]
            assert queue_ids[qname] in fn['DependsOn'], fn_id
    # offline packaging writes nothing into the project (no cached deployment zip either)
    assert sorted(os.listdir(chalice_dir)) == before


def test_the_resource_template_alone_passes_cfn_lint():
    result = subprocess.run([sys.executable, '-c',
                             'import sys; from cfnlint.runner import main; sys.exit(main())',
                             TEMPLATE_PATH], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_overlay_gives_functions_every_environment_variable_the_template_declares():
    with open(OVERLAY_PATH, encoding='utf-8') as f:
        overlay = json.load(f)
    variables = overlay['AllFunctions']['Properties']['Environment']['Variables']
    bindings = env_bindings()
    assert set(bindings) <= set(variables)
    for var, (lid, attr) in bindings.items():
        expected = {'Fn::GetAtt': [lid, attr]} if attr else {'Ref': lid}
        assert variables[var] == expected, var


CHALICE_TEMPLATE = {
    'Resources': {
        'Matcher': {'Type': 'AWS::Serverless::Function', 'DependsOn': 'Something',
                    'Properties': {'Events': {'MatcherSqsEventSource': {'Type': 'SQS', 'Properties': {
                        'Queue': {'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:'
                                             '${AWS::AccountId}:broker-matching.fifo'},
                        'BatchSize': 10}}}}},
        'APIHandler': {'Type': 'AWS::Serverless::Function', 'Properties': {}},
        'WebsocketAPI': {'Type': 'AWS::ApiGatewayV2::Api', 'Properties': {}},
    },
}


def test_the_merge_template_targets_sqs_functions_and_keeps_their_queue_arn():
    merged = build_merge_template(CHALICE_TEMPLATE, stage_env={'UPLOADS_BUCKET': 'b-dev'},
                                  api_gateway_stage='api')
    matcher = merged['Resources']['Matcher']
    assert matcher['DependsOn'] == ['Something', 'MatchingQueue']
    event = matcher['Properties']['Events']['MatcherSqsEventSource']['Properties']
    assert event == {'FunctionResponseTypes': ['ReportBatchItemFailures']}
    api = merged['Resources']['APIHandler']
    assert 'DependsOn' not in api and 'Events' not in api['Properties']
    assert api['Properties']['Environment']['Variables']['WS_STAGE'] == 'api'
    assert merged['Parameters']['UploadsBucketName']['Default'] == 'b-dev'
    # what Chalice's deep merge then produces keeps its own Queue and BatchSize
    final = deep_merge(CHALICE_TEMPLATE['Resources']['Matcher'], matcher)
    props = final['Properties']['Events']['MatcherSqsEventSource']['Properties']
    assert props['BatchSize'] == 10 and 'Fn::Sub' in props['Queue']


def test_a_logical_id_defined_by_both_chalice_and_the_template_is_an_error():
    clash = {'Resources': {'BrokerTable': {'Type': 'AWS::Serverless::Function'}}}
    with pytest.raises(ValueError, match='BrokerTable'):
        build_merge_template(clash, stage_env={}, api_gateway_stage='api')
