"""Create the resources of ``infra/resources.yaml`` against any boto3 endpoint.

``provision(session_or_clients)`` reads the CloudFormation template (the single
source of truth, also merged into Chalice's SAM template by ``infra.package``) and
creates its DynamoDB tables, SQS queues, S3 buckets and KMS keys/aliases with plain
boto3 calls, in dependency order (a dead-letter queue before the queue whose
RedrivePolicy points at it). It talks to whatever the clients point at: moto
in-process (inside ``mock_aws``), the local moto server, or nothing else in practice.

Idempotent: a resource that already exists is kept as it is (and described), so
running it twice is harmless. Fast: the template is parsed once per process, and
only the clients of the services in use are created.

    from infra.provision import provision
    with mock_aws():
        info = provision(boto3.Session(region_name='us-east-1'))
        info['env']['BROKER_TABLE']                 # 'broker-main'
        info['resources']['MatchingQueue']['url']   # queue URL
        info['outputs']['BrokerTableStreamArn']     # resolved template Outputs

``session_or_clients`` is a ``boto3.session.Session``, a mapping of service name to
client (``{'dynamodb': ..., 'sqs': ...}``; missing services are created from the
default session), or ``None``: clients from environment variables (e.g.
``AWS_ENDPOINT_URL``), cached per region/endpoint/key, the fastest choice for tests
that provision once per test (``provision(None, region='us-east-1')``).
"""
from __future__ import annotations

import functools
import json
import logging
import os
import re
from typing import Any, Callable, Iterable, Mapping

import yaml

__all__ = ['provision', 'load_template', 'TEMPLATE_PATH', 'env_bindings']

log = logging.getLogger(__name__)

TEMPLATE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'resources.yaml')

SERVICE_OF_TYPE = {
    'AWS::DynamoDB::Table': 'dynamodb',
    'AWS::SQS::Queue': 'sqs',
    'AWS::S3::Bucket': 's3',
    'AWS::KMS::Key': 'kms',
    'AWS::KMS::Alias': 'kms',
}


# --------------------------------------------------------------------------- YAML

class _CfnLoader(getattr(yaml, 'CSafeLoader', yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that turns CloudFormation short-form tags into their long form."""


def _construct_tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == 'Ref':
        return {'Ref': value}
    if tag_suffix == 'Condition':
        return {'Condition': value}
    if tag_suffix == 'GetAtt' and isinstance(value, str):
        resource, _, attribute = value.partition('.')
        return {'Fn::GetAtt': [resource, attribute]}
    return {'Fn::' + tag_suffix: value}


_CfnLoader.add_multi_constructor('!', _construct_tag)


def _load_yaml(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 (safe loader subclass)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict:
    return _load_yaml(path)


def load_template(path: str = TEMPLATE_PATH) -> dict:
    """The parsed template (short-form tags in long form). Cached; do not mutate."""
    path = os.path.abspath(path)
    return _load_cached(path, os.path.getmtime(path))


def env_bindings(template: Mapping[str, Any] | None = None) -> dict[str, tuple[str, str | None]]:
    """``{ENV_VAR: (logical_id, attribute or None for Ref)}`` from resources' Metadata."""
    template = template if template is not None else load_template()
    out: dict[str, tuple[str, str | None]] = {}
    for logical_id, res in template.get('Resources', {}).items():
        meta = res.get('Metadata') or {}
        if meta.get('EnvVar'):
            out[meta['EnvVar']] = (logical_id, meta.get('EnvAttr'))
    return out


# ---------------------------------------------------------------------- intrinsics

_SUB_VAR = re.compile(r'\$\{([^}!]+)\}')


def _refs(value: Any) -> set[str]:
    """Logical ids a (sub)value refers to through Ref / GetAtt / Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == 'Ref' and isinstance(v, str):
                found.add(v)
            elif k == 'Fn::GetAtt':
                found.add(v[0] if isinstance(v, list) else str(v).split('.')[0])
            elif k == 'Fn::Sub':
                text = v[0] if isinstance(v, list) else v
                found.update(m.split('.')[0] for m in _SUB_VAR.findall(text))
        for v in value.values():
            found |= _refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= _refs(v)
    return found


class _Resolver:
    def __init__(self, template: Mapping[str, Any], params: Mapping[str, Any], ctx: '_Context'):
        self.template = template
        self.params = params
        self.ctx = ctx
        self.created: dict[str, dict[str, Any]] = {}   # logical id -> {'Ref': ..., attrs...}

    def pseudo(self, name: str) -> Any:
        return {
            'AWS::Region': lambda: self.ctx.region,
            'AWS::AccountId': lambda: self.ctx.account_id(),
            'AWS::Partition': lambda: 'aws',
            'AWS::URLSuffix': lambda: 'amazonaws.com',
            'AWS::StackName': lambda: 'broker-local',
            'AWS::NoValue': lambda: None,
        }[name]()

    def ref(self, name: str) -> Any:
        if name.startswith('AWS::'):
            return self.pseudo(name)
        if name in self.params:
            return self.params[name]
        if name in self.created:
            return self.created[name]['Ref']
        raise KeyError(f'unresolved Ref {name!r} (not created yet or unsupported)')

    def getatt(self, resource: str, attribute: str) -> Any:
        try:
            return self.created[resource][attribute]
        except KeyError:
            raise KeyError(f'unresolved Fn::GetAtt {resource}.{attribute}') from None

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (k, v), = value.items()
                if k == 'Ref':
                    return self.ref(v)
                if k == 'Fn::GetAtt':
                    res, attr = (v if isinstance(v, list) else str(v).split('.', 1))
                    return self.getatt(res, self(attr))
                if k == 'Fn::Sub':
                    text, extra = (v[0], self(v[1])) if isinstance(v, list) else (v, {})

                    def sub(m: re.Match) -> str:
                        name = m.group(1)
                        if name in extra:
                            return str(extra[name])
                        if '.' in name and not name.startswith('AWS::'):
                            res, attr = name.split('.', 1)
                            return str(self.getatt(res, attr))
                        return str(self.ref(name))
                    return _SUB_VAR.sub(sub, text)
                if k == 'Fn::Join':
                    sep, items = v
                    return sep.join(str(x) for x in self(items))
                if k == 'Fn::Select':
                    idx, items = v
                    return self(items)[int(self(idx))]
                if k == 'Fn::Split':
                    sep, text = v
                    return self(text).split(sep)
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


# -------------------------------------------------------------------------- clients

_DEFAULT_CLIENTS: dict[tuple, Any] = {}


def _default_client(service: str, region: str) -> Any:
    """Default-session clients, reused while region, endpoint and key stay the same
    (creating a client costs ~5 ms; tests provision once per test)."""
    endpoint = (os.environ.get(f'AWS_ENDPOINT_URL_{service.upper()}')
                or os.environ.get('AWS_ENDPOINT_URL'))
    key = (service, region, endpoint, os.environ.get('AWS_ACCESS_KEY_ID'))
    if key not in _DEFAULT_CLIENTS:
        import boto3
        _DEFAULT_CLIENTS[key] = boto3.session.Session().client(service, region_name=region)
    return _DEFAULT_CLIENTS[key]


class _Context:
    def __init__(self, session_or_clients: Any, region: str | None):
        self._given = session_or_clients
        self._clients: dict[str, Any] = {}
        self._account: str | None = None
        self._region = region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            given = self._given
            if isinstance(given, Mapping) and service in given:
                self._clients[service] = given[service]
            elif given is not None and not isinstance(given, Mapping) and hasattr(given, 'client'):
                self._clients[service] = given.client(service, region_name=self._region) \
                    if self._region else given.client(service)
            else:
                self._clients[service] = _default_client(service, self.region)
        return self._clients[service]

    @property
    def region(self) -> str:
        if self._region:
            return self._region
        given = self._given
        if isinstance(given, Mapping) and given:
            self._region = next(iter(given.values())).meta.region_name
        elif given is not None and getattr(given, 'region_name', None):
            self._region = given.region_name
        else:
            self._region = (os.environ.get('AWS_REGION') or os.environ.get('AWS_DEFAULT_REGION')
                            or 'us-east-1')
        return self._region

    def learn_account(self, arn: str | None) -> None:
        if arn and self._account is None and arn.startswith('arn:'):
            parts = arn.split(':')
            if len(parts) > 4 and parts[4]:
                self._account = parts[4]

    def account_id(self) -> str:
        if self._account is None:
            self._account = self.client('sts').get_caller_identity()['Account']
        return self._account


def _error_code(exc: Exception) -> str:
    return getattr(exc, 'response', {}).get('Error', {}).get('Code', '')


# ------------------------------------------------------------------------ creators

def _create_table(ctx: _Context, props: dict) -> dict:
    ddb = ctx.client('dynamodb')
    name = props['TableName']
    kwargs: dict[str, Any] = {
        k: props[k] for k in (
            'TableName', 'AttributeDefinitions', 'KeySchema', 'BillingMode',
            'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'ProvisionedThroughput',
            'TableClass', 'DeletionProtectionEnabled', 'Tags',
        ) if props.get(k) is not None
    }
    stream = props.get('StreamSpecification')
    if stream:
        kwargs['StreamSpecification'] = {'StreamEnabled': True,
                                         'StreamViewType': stream['StreamViewType']}
    sse = props.get('SSESpecification')
    if sse:
        kwargs['SSESpecification'] = {
            k2: sse[k1] for k1, k2 in (('SSEEnabled', 'Enabled'), ('SSEType', 'SSEType'),
                                       ('KMSMasterKeyId', 'KMSMasterKeyId')) if k1 in sse}
    try:
        desc = ddb.create_table(**kwargs)['TableDescription']
        created = True
    except ddb.exceptions.ResourceInUseException:
        desc = ddb.describe_table(TableName=name)['Table']
        created = False
    if desc.get('TableStatus') not in (None, 'ACTIVE'):
        ddb.get_waiter('table_exists').wait(TableName=name)
    if created:
        ttl = props.get('TimeToLiveSpecification')
        if ttl and ttl.get('Enabled'):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                'Enabled': True, 'AttributeName': ttl['AttributeName']})
        pitr = props.get('PointInTimeRecoverySpecification')
        if pitr and pitr.get('PointInTimeRecoveryEnabled'):
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                'PointInTimeRecoveryEnabled': True})
    ctx.learn_account(desc['TableArn'])
    return {'Ref': name, 'name': name, 'Arn': desc['TableArn'],
            'StreamArn': desc.get('LatestStreamArn'), 'created': created}


_SQS_ATTRS = ('DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod',
              'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout', 'FifoQueue',
              'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit',
              'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled',
              'RedrivePolicy', 'RedriveAllowPolicy')


def _sqs_value(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(',', ':'))
    return str(value)


def _queue_arn_from_url(url: str, region: str, name: str) -> str | None:
    # Every SQS URL (AWS, moto in-process and moto server) ends in /<account>/<name>.
    parts = url.rstrip('/').split('/')
    if len(parts) >= 2 and parts[-1] == name and parts[-2].isdigit():
        partition = 'aws-cn' if region.startswith('cn-') else 'aws'
        return f'arn:{partition}:sqs:{region}:{parts[-2]}:{name}'
    return None


def _create_queue(ctx: _Context, props: dict) -> dict:
    sqs = ctx.client('sqs')
    name = props['QueueName']
    attrs = {k: _sqs_value(props[k]) for k in _SQS_ATTRS if props.get(k) is not None}
    if 'RedrivePolicy' in props:   # SQS wants maxReceiveCount as a JSON value it can parse
        rp = dict(props['RedrivePolicy'])
        rp['maxReceiveCount'] = int(rp['maxReceiveCount'])
        attrs['RedrivePolicy'] = json.dumps(rp, separators=(',', ':'))
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attrs)['QueueUrl']
    except sqs.exceptions.QueueNameExists:
        url = sqs.get_queue_url(QueueName=name)['QueueUrl']
    arn = _queue_arn_from_url(url, ctx.region, name)
    if arn is None:
        arn = sqs.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    ctx.learn_account(arn)
    return {'Ref': url, 'name': name, 'url': url, 'QueueUrl': url, 'QueueName': name, 'Arn': arn}


def _create_bucket(ctx: _Context, props: dict) -> dict:
    s3 = ctx.client('s3')
    name = props['BucketName']
    kwargs: dict[str, Any] = {'Bucket': name}
    if ctx.region != 'us-east-1':
        kwargs['CreateBucketConfiguration'] = {'LocationConstraint': ctx.region}
    owner = (props.get('OwnershipControls') or {}).get('Rules')
    try:
        s3.create_bucket(**kwargs)
        created = True
    except Exception as exc:  # noqa: BLE001 - botocore raises per-code classes
        if _error_code(exc) not in ('BucketAlreadyOwnedByYou', 'BucketAlreadyExists'):
            raise
        created = False
    if created:
        pab = props.get('PublicAccessBlockConfiguration')
        if pab:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)
        if owner:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={'Rules': owner})
        enc = props.get('BucketEncryption')
        if enc:
            rules = []
            for rule in enc['ServerSideEncryptionConfiguration']:
                api_rule = {k: v for k, v in rule.items() if k != 'ServerSideEncryptionByDefault'}
                if 'ServerSideEncryptionByDefault' in rule:
                    api_rule['ApplyServerSideEncryptionByDefault'] = rule['ServerSideEncryptionByDefault']
                rules.append(api_rule)
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={'Rules': rules})
        ver = props.get('VersioningConfiguration')
        if ver:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={'Status': ver['Status']})
        cors = props.get('CorsConfiguration')
        if cors:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={'CORSRules': cors['CorsRules']})
    arn = f'arn:aws:s3:::{name}'
    return {'Ref': name, 'name': name, 'Arn': arn, 'DomainName': f'{name}.s3.amazonaws.com',
            'created': created}


def _aliases(ctx: _Context) -> dict[str, str]:
    kms = ctx.client('kms')
    out: dict[str, str] = {}
    for page in kms.get_paginator('list_aliases').paginate():
        for a in page['Aliases']:
            if a.get('TargetKeyId'):
                out[a['AliasName']] = a['TargetKeyId']
    return out


def _create_key(ctx: _Context, props: dict, logical_id: str, template: Mapping[str, Any]) -> dict:
    kms = ctx.client('kms')
    # Idempotency: a key is "ours" if an alias of the template already targets it.
    aliases = _aliases(ctx)
    for res in template.get('Resources', {}).values():
        if res.get('Type') == 'AWS::KMS::Alias':
            target = (res.get('Properties') or {}).get('TargetKeyId')
            name = (res.get('Properties') or {}).get('AliasName')
            if target == {'Ref': logical_id} and name in aliases:
                meta = kms.describe_key(KeyId=aliases[name])['KeyMetadata']
                return {'Ref': meta['KeyId'], 'KeyId': meta['KeyId'], 'Arn': meta['Arn'],
                        'created': False}
    kwargs: dict[str, Any] = {}
    for cfn, api in (('Description', 'Description'), ('KeySpec', 'KeySpec'),
                     ('KeyUsage', 'KeyUsage'), ('MultiRegion', 'MultiRegion'), ('Tags', 'Tags')):
        if props.get(cfn) is not None:
            kwargs[api] = props[cfn]
    if props.get('KeyPolicy'):
        kwargs['Policy'] = json.dumps(props['KeyPolicy'])
    meta = kms.create_key(**kwargs)['KeyMetadata']
    if props.get('EnableKeyRotation'):
        kms.enable_key_rotation(KeyId=meta['KeyId'])
    ctx.learn_account(meta['Arn'])
    return {'Ref': meta['KeyId'], 'KeyId': meta['KeyId'], 'Arn': meta['Arn'], 'created': True}


def _create_alias(ctx: _Context, props: dict) -> dict:
    kms = ctx.client('kms')
    name = props['AliasName']
    try:
        kms.create_alias(AliasName=name, TargetKeyId=props['TargetKeyId'])
    except kms.exceptions.AlreadyExistsException:
        pass
    return {'Ref': name, 'name': name, 'TargetKeyId': props['TargetKeyId']}


# --------------------------------------------------------------------------- order

def _toposort(resources: Mapping[str, Any]) -> list[str]:
    deps = {lid: {d for d in _refs(r.get('Properties', {})) if d in resources and d != lid}
            | set(r.get('DependsOn', []) if isinstance(r.get('DependsOn', []), list)
                  else [r['DependsOn']])
            for lid, r in resources.items()}
    order: list[str] = []
    done: set[str] = set()
    pending = list(resources)          # template order breaks ties: stable output
    while pending:
        progressed = False
        for lid in list(pending):
            if deps[lid] <= done:
                order.append(lid)
                done.add(lid)
                pending.remove(lid)
                progressed = True
        if not progressed:
            raise ValueError(f'dependency cycle among {pending}')
    return order


# --------------------------------------------------------------------------- entry

def provision(session_or_clients: Any = None, *, bucket_name: str | None = None,
              template_path: str = TEMPLATE_PATH, region: str | None = None,
              services: Iterable[str] | None = None,
              parameters: Mapping[str, Any] | None = None) -> dict:
    """Create every resource of the template (idempotently); return what was made.

    bucket_name: overrides the ``UploadsBucketName`` parameter (default: its Default).
    services: only create resources of these services, e.g. ``{'dynamodb', 'sqs'}``
    (a test that needs no S3 or KMS saves their clients and calls).
    parameters: further template parameter values.

    Returns ``{'region', 'account_id', 'resources': {logical_id: {...}},
    'outputs': {OutputName: value}, 'env': {ENV_VAR: value}}`` where each resource has
    ``Ref`` and its attributes (``Arn``, ``StreamArn``, ``QueueUrl``, ``url``, ...).
    Outputs and env entries whose resource was filtered out by ``services`` are left out.
    """
    template = load_template(template_path)
    wanted = set(services) if services is not None else None
    ctx = _Context(session_or_clients, region)

    params: dict[str, Any] = {name: spec.get('Default')
                              for name, spec in (template.get('Parameters') or {}).items()}
    if parameters:
        params.update(parameters)
    if bucket_name is not None:
        params['UploadsBucketName'] = bucket_name
    resolver = _Resolver(template, params, ctx)

    resources = template.get('Resources') or {}
    creators: dict[str, Callable[[dict, str], dict]] = {
        'AWS::DynamoDB::Table': lambda p, lid: _create_table(ctx, p),
        'AWS::SQS::Queue': lambda p, lid: _create_queue(ctx, p),
        'AWS::S3::Bucket': lambda p, lid: _create_bucket(ctx, p),
        'AWS::KMS::Key': lambda p, lid: _create_key(ctx, p, lid, template),
        'AWS::KMS::Alias': lambda p, lid: _create_alias(ctx, p),
    }
    made: dict[str, dict[str, Any]] = {}
    for lid in _toposort(resources):
        res = resources[lid]
        rtype = res.get('Type')
        service = SERVICE_OF_TYPE.get(rtype)
        if service is None:
            log.warning('provision: skipping %s (%s): no local creator', lid, rtype)
            continue
        if wanted is not None and service not in wanted:
            continue
        if any(d not in resolver.created for d in _refs(res.get('Properties', {}))
               if d in resources):
            continue   # depends on something filtered out
        props = resolver(res.get('Properties') or {})
        info = creators[rtype](props, lid)
        info['type'] = rtype
        resolver.created[lid] = info
        made[lid] = info

    outputs: dict[str, Any] = {}
    for name, spec in (template.get('Outputs') or {}).items():
        try:
            outputs[name] = resolver(spec['Value'])
        except KeyError:
            pass
    env: dict[str, Any] = {}
    for var, (lid, attr) in env_bindings(template).items():
        if lid in made:
            env[var] = made[lid][attr] if attr else made[lid]['Ref']
    return {'region': ctx.region, 'account_id': ctx._account, 'resources': made,
            'outputs': outputs, 'env': env}


def _main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description='Create infra/resources.yaml against an endpoint '
                                             '(default: $AWS_ENDPOINT_URL)')
    ap.add_argument('--endpoint-url', default=os.environ.get('AWS_ENDPOINT_URL'))
    ap.add_argument('--region', default=os.environ.get('AWS_DEFAULT_REGION', 'us-east-1'))
    ap.add_argument('--bucket-name')
    args = ap.parse_args(argv)
    import boto3
    if args.endpoint_url:
        os.environ['AWS_ENDPOINT_URL'] = args.endpoint_url
    info = provision(boto3.Session(region_name=args.region), bucket_name=args.bucket_name)
    print(json.dumps({'outputs': info['outputs'], 'env': info['env']}, indent=2, default=str))
    return 0


if __name__ == '__main__':
    raise SystemExit(_main())
