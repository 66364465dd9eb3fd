"""Package the app for CloudFormation: Chalice's SAM template + infra/resources.yaml.

    python -m infra.package <stage> <outdir> [--offline] [--no-lint]

1. Generates Chalice's own template once (in-process, no dependency download) to
   learn its function resources.
2. Writes ``<outdir>/merge-template.json``: the Parameters, Resources and Outputs of
   ``infra/resources.yaml`` (the ``UploadsBucketName`` default set to the stage's
   ``UPLOADS_BUCKET``) plus the rules of ``infra/chalice-overlay.json`` expanded for
   every function: environment variables referencing the table, queues, bucket and
   key; ``WS_API_ID``/``WS_STAGE`` when Chalice made a ``WebsocketAPI``; and for
   each SQS-triggered function ``FunctionResponseTypes: [ReportBatchItemFailures]`` on
   its SQS event and ``DependsOn`` its queue. Chalice's name-based queue ARN is kept
   (overriding it with Fn::GetAtt breaks the template, see tooling-facts).
3. Runs ``chalice package --stage <stage> --merge-template <that file> <outdir>``.
   ``--offline`` runs the same packager in-process with the dependency download
   replaced by an app-only zip (the template is identical; the zip is not deployable):
   what the tests use, since nothing may reach PyPI at test time.
4. Runs cfn-lint on ``<outdir>/sam.json`` (exit code = cfn-lint's).

If the stage names an ``iam_policy_file`` that ``.chalice/`` does not have yet, the
project is packaged from a staged copy whose ``.chalice/`` holds ``infra/policy.json``
under that name (a warning says so); the project itself is never modified.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import Any, Iterator

INFRA_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(INFRA_DIR)
OVERLAY_PATH = os.path.join(INFRA_DIR, 'chalice-overlay.json')
POLICY_PATH = os.path.join(INFRA_DIR, 'policy.json')
OVERLAY_SECTIONS = ('AllFunctions', 'AllFunctionsWhenWebsocketAPI', 'SqsEvents',
                    'SqsFunctions', 'Resources')


# ------------------------------------------------------------------ merging

def deep_merge(base: Any, extra: Any) -> Any:
    """Chalice's --merge-template semantics: dicts merge recursively, the rest replaces."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(extra)


def _fill(value: Any, placeholders: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        for v in value:
            if isinstance(v, str) and v.startswith('{') and v.endswith('}') and \
                    isinstance(placeholders.get(v[1:-1]), list):
                out.extend(placeholders[v[1:-1]])
            else:
                out.append(_fill(v, placeholders))
        return out
    if isinstance(value, str):
        return re.sub(r'\{(\w+)\}', lambda m: str(placeholders.get(m.group(1), m.group(0))), value)
    return value


def _queue_name_of(event_props: dict) -> str | None:
    queue = event_props.get('Queue')
    if isinstance(queue, dict) and 'Fn::Sub' in queue:
        queue = queue['Fn::Sub']
    if isinstance(queue, str):
        return queue.rsplit(':', 1)[-1]
    return None


def build_merge_template(chalice_template: dict, *, stage_env: dict[str, str],
                         api_gateway_stage: str, overlay: dict | None = None,
                         resources: dict | None = None) -> dict:
    """The --merge-template document for one stage (pure: no I/O besides defaults)."""
    from infra.provision import load_template
    resources = resources if resources is not None else load_template()
    if overlay is None:
        with open(OVERLAY_PATH, encoding='utf-8') as f:
            overlay = json.load(f)
    unknown = set(overlay) - set(OVERLAY_SECTIONS) - {'Description'}
    if unknown:
        raise ValueError(f'unknown sections in chalice-overlay.json: {sorted(unknown)}')

    merged: dict[str, Any] = {
        'Parameters': copy.deepcopy(resources.get('Parameters') or {}),
        'Resources': copy.deepcopy(resources.get('Resources') or {}),
        'Outputs': copy.deepcopy(resources.get('Outputs') or {}),
    }
    if 'UploadsBucketName' in merged['Parameters'] and stage_env.get('UPLOADS_BUCKET'):
        merged['Parameters']['UploadsBucketName']['Default'] = stage_env['UPLOADS_BUCKET']

    queue_ids = {props.get('Properties', {}).get('QueueName'): lid
                 for lid, props in merged['Resources'].items()
                 if props.get('Type') == 'AWS::SQS::Queue'}
    chalice_resources = chalice_template.get('Resources', {})
    has_ws = 'WebsocketAPI' in chalice_resources
    for lid in set(merged['Resources']) & set(chalice_resources):
        raise ValueError(f'{lid} is defined by both Chalice and infra/resources.yaml')

    for fn_id, fn in chalice_resources.items():
        if fn.get('Type') != 'AWS::Serverless::Function':
            continue
        placeholders: dict[str, Any] = {'FunctionLogicalId': fn_id,
                                        'ApiGatewayStage': api_gateway_stage}
        patch: dict[str, Any] = _fill(overlay.get('AllFunctions') or {}, placeholders)
        if has_ws:
            patch = deep_merge(patch, _fill(overlay.get('AllFunctionsWhenWebsocketAPI') or {},
                                            placeholders))
        queues: list[str] = []
        for ev_name, ev in (fn.get('Properties', {}).get('Events') or {}).items():
            if ev.get('Type') != 'SQS':
                continue
            qname = _queue_name_of(ev.get('Properties', {}))
            if qname in queue_ids:
                queues.append(queue_ids[qname])
            ev_patch = _fill(overlay.get('SqsEvents') or {}, {**placeholders, 'QueueName': qname})
            patch = deep_merge(patch, {'Properties': {'Events': {ev_name: ev_patch}}})
        if any(ev.get('Type') == 'SQS' for ev in (fn.get('Properties', {}).get('Events') or {}).values()):
            fn_patch = _fill(overlay.get('SqsFunctions') or {},
                             {**placeholders, 'QueueLogicalIds': sorted(set(queues))})
            if 'DependsOn' in fn_patch:
                existing = fn.get('DependsOn') or []
                existing = [existing] if isinstance(existing, str) else list(existing)
                fn_patch['DependsOn'] = list(dict.fromkeys(existing + list(fn_patch['DependsOn'])))
                if not fn_patch['DependsOn']:
                    del fn_patch['DependsOn']
            patch = deep_merge(patch, fn_patch)
        if patch:
            merged['Resources'][fn_id] = patch
    merged['Resources'] = deep_merge(merged['Resources'], overlay.get('Resources') or {})
    return merged


# --------------------------------------------------------------- packaging

@contextlib.contextmanager
def _offline_packager(tmpdir: str) -> Iterator[None]:
    """Replace the dependency download with an app-only zip (template unchanged)."""
    from chalice.deploy import packager as pk

    original_create = pk.LambdaDeploymentPackager.create_deployment_package
    original_name = pk.BaseLambdaDeploymentPackager.deployment_package_filename

    def filename(self: Any, project_dir: str, python_version: str) -> str:
        return os.path.join(tmpdir, f'offline-{python_version}.zip')

    def create(self: Any, project_dir: str, python_version: str) -> str:
        path = filename(self, project_dir, python_version)
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
            self._add_app_files(z, project_dir)
        return path

    pk.LambdaDeploymentPackager.create_deployment_package = create  # type: ignore
    pk.BaseLambdaDeploymentPackager.deployment_package_filename = filename  # type: ignore
    try:
        yield
    finally:
        pk.LambdaDeploymentPackager.create_deployment_package = original_create  # type: ignore
        pk.BaseLambdaDeploymentPackager.deployment_package_filename = original_name  # type: ignore


def package_in_process(project_dir: str, stage: str, outdir: str,
                       merge_template: str | None = None) -> dict:
    """Chalice's packager, offline. Returns the generated template."""
    from chalice.cli.factory import CLIFactory
    with tempfile.TemporaryDirectory(prefix='chalice-offline-') as tmp, _offline_packager(tmp):
        factory = CLIFactory(project_dir)
        config = factory.create_config_obj(chalice_stage_name=stage)
        options = factory.create_package_options()
        packager = factory.create_app_packager(config, options, 'cloudformation', 'json',
                                               merge_template)
        packager.package_app(config, outdir, stage)
    with open(os.path.join(outdir, 'sam.json'), encoding='utf-8') as f:
        return json.load(f)


def package_with_cli(project_dir: str, stage: str, outdir: str, merge_template: str) -> None:
    """The real ``chalice package`` (downloads Lambda wheels from PyPI)."""
    cmd = [sys.executable, '-c', 'import sys; from chalice.cli import main; sys.exit(main())',
           '--project-dir', project_dir, 'package', '--stage', stage,
           '--merge-template', merge_template, outdir]
    print('+ chalice ' + ' '.join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)


def cfn_lint(path: str) -> int:
    cmd = [sys.executable, '-c', 'import sys; from cfnlint.runner import main; sys.exit(main())',
           path]
    print(f'+ cfn-lint {path}', flush=True)
    return subprocess.run(cmd).returncode


def _stage_config(project_dir: str, stage: str) -> Any:
    from chalice.cli.factory import CLIFactory
    return CLIFactory(project_dir).create_config_obj(chalice_stage_name=stage)


@contextlib.contextmanager
def project_with_policy(project_dir: str, stage: str) -> Iterator[str]:
    """The project dir, or a staged copy if the stage's IAM policy file is missing."""
    config = _stage_config(project_dir, stage)
    policy_file = None if config.autogen_policy else config.iam_policy_file
    if not policy_file or os.path.exists(os.path.join(project_dir, '.chalice', policy_file)):
        yield project_dir
        return
    print(f'warning: .chalice/{policy_file} is missing; packaging a staged copy with '
          f'infra/policy.json as {policy_file}', file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix='chalice-stage-') as tmp:
        staged = os.path.join(tmp, os.path.basename(os.path.abspath(project_dir)))
        os.makedirs(os.path.join(staged, '.chalice'))
        for name in ('app.py', 'requirements.txt'):
            if os.path.exists(os.path.join(project_dir, name)):
                shutil.copy2(os.path.join(project_dir, name), staged)
        for name in ('chalicelib', 'vendor'):
            if os.path.isdir(os.path.join(project_dir, name)):
                shutil.copytree(os.path.join(project_dir, name), os.path.join(staged, name),
                                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        for entry in os.listdir(os.path.join(project_dir, '.chalice')):
            src = os.path.join(project_dir, '.chalice', entry)
            if os.path.isfile(src):
                shutil.copy2(src, os.path.join(staged, '.chalice', entry))
        shutil.copy2(POLICY_PATH, os.path.join(staged, '.chalice', policy_file))
        yield staged


def package(stage: str, outdir: str, *, project_dir: str = ROOT, offline: bool = False,
            lint: bool = True) -> int:
    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    project_dir = os.path.abspath(project_dir)
    outdir = os.path.abspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    with project_with_policy(project_dir, stage) as proj:
        config = _stage_config(proj, stage)
        with tempfile.TemporaryDirectory(prefix='chalice-base-') as base_dir:
            base = package_in_process(proj, stage, base_dir)
        merge = build_merge_template(
            base, stage_env={k: str(v) for k, v in config.environment_variables.items()},
            api_gateway_stage=config.api_gateway_stage or 'api')
        merge_path = os.path.join(outdir, 'merge-template.json')
        with open(merge_path, 'w', encoding='utf-8') as f:
            json.dump(merge, f, indent=2)
            f.write('\n')
        if offline:
            package_in_process(proj, stage, outdir, merge_template=merge_path)
        else:
            package_with_cli(proj, stage, outdir, merge_path)
    print(f'wrote {os.path.join(outdir, "sam.json")}', flush=True)
    return cfn_lint(os.path.join(outdir, 'sam.json')) if lint else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('stage')
    ap.add_argument('outdir')
    ap.add_argument('--project-dir', default=ROOT)
    ap.add_argument('--offline', action='store_true',
                    help='no dependency download (template only; the zip is not deployable)')
    ap.add_argument('--no-lint', action='store_true')
    args = ap.parse_args(argv)
    return package(args.stage, args.outdir, project_dir=args.project_dir, offline=args.offline,
                   lint=not args.no_lint)


if __name__ == '__main__':
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    sys.exit(main())
