"""The access model of the planned platform: who holds which policies, which resources have which policy.

Pure logic over plain records (what the offline harness recorded, plus the ID and ARN the mocks gave
each resource), so it is tested on small hand-built plans without Pulumi:

* a **principal** per IAM role: its inline policies (``aws:iam/rolePolicy:RolePolicy`` and the role's
  own ``inlinePolicies``), its attached managed policies (``aws:iam/rolePolicyAttachment``, the role's
  ``managedPolicyArns``: customer managed ones from the plan, AWS managed ones from the vendored
  documents in ``aws_managed/``), its permissions boundary, trust policy and tags;
* a **resource** per document that AWS evaluates on the resource side: bucket, KMS key, ECR
  repository, model package group, event bus, SNS topic, SQS queue, Lambda function (its
  permissions), API Gateway API, and every role's trust policy;
* the **VPC endpoints** of each account with their policies (no policy: AWS's full-access default);
* the roles and resources of **CloudFormation templates** the plan uploads (the Service Catalog
  products), instantiated with the parameter values a journey launches them with;
* Lake Formation grants (``aws:lakeformation/permissions:Permissions``), which IAM evaluation does
  not cover and which journeys check against the plan instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: A document AWS evaluates: its name (where the report shows it) and the policy.
FULL_ACCESS_ENDPOINT_POLICY = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
AWS_MANAGED_DIR = Path(__file__).with_name("aws_managed")
_AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


class ModelError(Exception):
    """The plan holds something the model cannot place (one line)."""


@dataclass(frozen=True)
class PlannedResource:
    """One planned resource as the model reads it."""

    stack: str
    account: str
    region: str
    type: str
    name: str
    """The Pulumi resource name."""
    inputs: dict[str, Any]
    arn: str = ""
    id: str = ""


@dataclass(frozen=True)
class NamedPolicy:
    name: str
    document: dict[str, Any]


@dataclass
class Principal:
    """An IAM role and everything attached to it."""

    arn: str
    name: str
    account: str
    stack: str
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    boundary: NamedPolicy | None = None
    trust_policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    managed_policy_arns: list[str] = field(default_factory=list)


@dataclass
class Resource:
    """A resource whose own policy takes part in the decision."""

    arn: str
    kind: str
    account: str
    stack: str
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source: str = ""
    """The Pulumi resource (or template resource) that carries the policy."""


@dataclass(frozen=True)
class Endpoint:
    id: str
    service: str
    account: str
    stack: str
    name: str
    policy: dict[str, Any]


@dataclass(frozen=True)
class LakeFormationGrant:
    stack: str
    catalog: str
    principal: str
    permissions: tuple[str, ...]
    target: dict[str, Any]
    """The grant's resource block (``table``, ``tableWithColumns``, ``dataCellsFilter``, ``database``...)."""


@dataclass
class AccessModel:
    principals: dict[str, Principal] = field(default_factory=dict)
    """By role ARN."""
    resources: dict[str, Resource] = field(default_factory=dict)
    """By resource ARN (buckets as ``arn:aws:s3:::<name>``)."""
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    """By endpoint ID."""
    grants: list[LakeFormationGrant] = field(default_factory=list)
    records: dict[tuple[str, str], PlannedResource] = field(default_factory=dict)
    """(stack, Pulumi name) -> record, for references from the journeys."""
    product_portfolios: dict[str, set[str]] = field(default_factory=dict)
    """Service Catalog product ID -> the portfolios it is in."""
    permission_sets: dict[str, NamedPolicy] = field(default_factory=dict)
    """Identity Center permission set name -> its inline policy (the identity stack's plan)."""
    portfolio_principals: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Portfolio ID -> its principal associations (``IAM`` or ``IAM_PATTERN``, principal ARN)."""
    accounts: dict[str, str] = field(default_factory=dict)
    """Stack -> account."""
    stacks: list[str] = field(default_factory=list)

    def principal(self, arn: str) -> Principal:
        try:
            return self.principals[arn]
        except KeyError:
            raise ModelError(f"no role {arn} in the planned stacks") from None

    def role_named(self, stack: str, name: str) -> Principal:
        for principal in self.principals.values():
            if principal.stack == stack and principal.name == name:
                return principal
        known = sorted(p.name for p in self.principals.values() if p.stack == stack)
        raise ModelError(f"stack {stack}: no role named {name!r} (roles: {', '.join(known) or 'none'})")

    def resource_for(self, arn: str) -> Resource | None:
        """The resource whose policy governs a request on ``arn`` (objects -> bucket, versions -> group)."""
        for candidate in _policy_holders(arn):
            if candidate in self.resources:
                return self.resources[candidate]
        return None


def _policy_holders(arn: str) -> list[str]:
    """ARNs whose resource policy applies to a request on ``arn``, most specific first."""
    candidates = [arn]
    if arn.startswith("arn:aws:s3:::"):
        candidates.append("arn:aws:s3:::" + arn.removeprefix("arn:aws:s3:::").split("/", 1)[0])
    elif ":sagemaker:" in arn and ":model-package/" in arn:
        head, _, tail = arn.partition(":model-package/")
        candidates.append(f"{head}:model-package-group/{tail.split('/', 1)[0]}")
    elif ":lambda:" in arn and ":function:" in arn:
        head, _, tail = arn.partition(":function:")
        candidates.append(f"{head}:function:{tail.split(':', 1)[0]}")
    elif ":execute-api:" in arn:
        head, _, tail = arn.rpartition(":")
        candidates.append(f"{head}:{tail.split('/', 1)[0]}")
    return candidates


# ---- documents -------------------------------------------------------------------------------------


def document(value: Any, where: str) -> dict[str, Any]:
    """A policy document from a plan input: a dict, or a JSON string."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{where}: the policy is not JSON ({exc.msg})") from None
        if isinstance(parsed, dict):
            return parsed
    raise ModelError(f"{where}: the policy is neither a document nor JSON text")


def endpoint_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """An endpoint policy as the engine reads it: ``{"AWS": "*"}`` written as ``"*"``.

    Both mean every principal in an endpoint policy; the engine accepts only the short form.
    """
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    normalised = [{**s, "Principal": "*"} if s.get("Principal") in ({"AWS": "*"}, {"AWS": ["*"]}) else s for s in statements or []]
    return {**policy, "Statement": normalised}


def aws_managed_policy(arn: str) -> NamedPolicy:
    """A vendored AWS managed policy (``aws_managed/<name>.json``: document, version id, source)."""
    name = arn.removeprefix(_AWS_MANAGED_PREFIX).rsplit("/", 1)[-1]
    path = AWS_MANAGED_DIR / f"{name}.json"
    if not path.exists():
        raise ModelError(f"{arn}: AWS managed policy not vendored (add {path.name} under mlops_platform/access/aws_managed/)")
    vendored = json.loads(path.read_text(encoding="utf-8"))
    return NamedPolicy(f"{arn} ({vendored['versionId']})", vendored["document"])


def _tags(inputs: dict[str, Any]) -> dict[str, str]:
    tags = inputs.get("tags") or {}
    if isinstance(tags, list):  # CloudFormation's [{"Key", "Value"}]
        return {str(t["Key"]): str(t["Value"]) for t in tags}
    return {str(k): str(v) for k, v in tags.items()}


# ---- building the model ----------------------------------------------------------------------------


def build_model(resources: list[PlannedResource]) -> AccessModel:
    """The access model of planned resources (of any number of stacks)."""
    model = AccessModel()
    for record in resources:
        model.records[(record.stack, record.name)] = record
        if record.stack not in model.accounts:
            model.accounts[record.stack] = record.account
            model.stacks.append(record.stack)
    customer_policies = {r.arn: r for r in resources if r.type == "aws:iam/policy:Policy"}
    roles_by_name: dict[tuple[str, str], Principal] = {}
    for record in resources:
        if record.type == "aws:iam/role:Role":
            principal = _principal(record, customer_policies)
            model.principals[principal.arn] = principal
            roles_by_name[(record.account, principal.name)] = principal
            model.resources[principal.arn] = Resource(principal.arn, "role", record.account, record.stack, principal.trust_policy, principal.tags, record.name)
    for record in resources:
        _attach(record, roles_by_name, customer_policies)
        _resource_policy(record, model)
        if record.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
            policy = endpoint_policy(document(record.inputs["policy"], record.name)) if record.inputs.get("policy") else FULL_ACCESS_ENDPOINT_POLICY
            model.endpoints[record.id] = Endpoint(record.id, str(record.inputs.get("serviceName", "")), record.account, record.stack, record.name, policy)
        if record.type == "aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation":
            model.product_portfolios.setdefault(str(record.inputs.get("productId")), set()).add(str(record.inputs.get("portfolioId")))
        if record.type == "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation":
            association = (str(record.inputs.get("principalType") or "IAM"), str(record.inputs.get("principalArn")))
            model.portfolio_principals.setdefault(str(record.inputs.get("portfolioId")), []).append(association)
        if record.type == "aws:lakeformation/permissions:Permissions":
            inputs = record.inputs
            target = {k: v for k, v in inputs.items() if k in ("table", "tableWithColumns", "dataCellsFilter", "database", "dataLocation", "lfTag", "lfTagPolicy")}
            model.grants.append(LakeFormationGrant(record.stack, str(inputs.get("catalogId", record.account)), str(inputs.get("principal", "")), tuple(inputs.get("permissions") or []), target))
    _permission_sets(resources, model)
    for principal in model.principals.values():
        for arn in principal.managed_policy_arns:
            principal.identity_policies.append(_managed(arn, customer_policies, principal.name))
    return model


def _permission_sets(resources: list[PlannedResource], model: AccessModel) -> None:
    """Each planned permission set's inline policy, by the permission set's name."""
    names = {r.arn: str(r.inputs.get("name")) for r in resources if r.type == "aws:ssoadmin/permissionSet:PermissionSet"}
    for record in resources:
        if record.type == "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy":
            name = names.get(str(record.inputs.get("permissionSetArn")))
            if name is None:
                raise ModelError(f"{record.stack}:{record.name}: no planned permission set {record.inputs.get('permissionSetArn')}")
            model.permission_sets[name] = NamedPolicy(f"permission set {name}", document(record.inputs["inlinePolicy"], record.name))


def _principal(record: PlannedResource, customer_policies: dict[str, PlannedResource]) -> Principal:
    inputs = record.inputs
    name = str(inputs.get("name") or record.arn.rsplit("/", 1)[-1])
    principal = Principal(record.arn, name, record.account, record.stack, tags=_tags(inputs))
    if inputs.get("assumeRolePolicy"):
        principal.trust_policy = document(inputs["assumeRolePolicy"], f"{record.stack}:{record.name} trust")
    for index, inline in enumerate(inputs.get("inlinePolicies") or []):
        if inline.get("policy"):
            principal.identity_policies.append(NamedPolicy(f"{name}/{inline.get('name') or index}", document(inline["policy"], record.name)))
    principal.managed_policy_arns = list(inputs.get("managedPolicyArns") or [])
    boundary = inputs.get("permissionsBoundary")
    if boundary:
        principal.boundary = _managed(str(boundary), customer_policies, name)
    return principal


def _managed(arn: str, customer_policies: dict[str, PlannedResource], role: str) -> NamedPolicy:
    if arn.startswith(_AWS_MANAGED_PREFIX):
        return aws_managed_policy(arn)
    record = customer_policies.get(arn)
    if record is None:
        raise ModelError(f"role {role}: managed policy {arn} is not in the planned stacks")
    return NamedPolicy(arn, document(record.inputs["policy"], record.name))


def _attach(record: PlannedResource, roles: dict[tuple[str, str], Principal], customer_policies: dict[str, PlannedResource]) -> None:
    if record.type not in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        return
    role = str(record.inputs.get("role", ""))
    principal = roles.get((record.account, role))
    if principal is None:
        raise ModelError(f"{record.stack}:{record.name}: role {role!r} is not a planned role of this account")
    if record.type == "aws:iam/rolePolicy:RolePolicy":
        name = str(record.inputs.get("name") or record.name)
        principal.identity_policies.append(NamedPolicy(f"{principal.name}/{name}", document(record.inputs["policy"], record.name)))
    else:
        principal.managed_policy_arns.append(str(record.inputs["policyArn"]))


_RESOURCE_POLICIES: dict[str, tuple[str, str]] = {
    # type -> (kind, policy input)
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket", "policy"),
    "aws:kms/key:Key": ("kms-key", "policy"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("ecr-repository", "policy"),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("model-package-group", "resourcePolicy"),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("event-bus", "policy"),
    "aws:sns/topicPolicy:TopicPolicy": ("sns-topic", "policy"),
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs-queue", "policy"),
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("api", "policy"),
    "aws:apigateway/restApi:RestApi": ("api", "policy"),
}


def _resource_arn(record: PlannedResource) -> str:
    inputs, region, account = record.inputs, record.region, record.account
    if record.type == "aws:s3/bucketPolicy:BucketPolicy":
        return f"arn:aws:s3:::{inputs['bucket']}"
    if record.type == "aws:ecr/repositoryPolicy:RepositoryPolicy":
        return f"arn:aws:ecr:{region}:{account}:repository/{inputs['repository']}"
    if record.type == "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy":
        return f"arn:aws:sagemaker:{region}:{account}:model-package-group/{inputs['modelPackageGroupName']}"
    if record.type == "aws:cloudwatch/eventBusPolicy:EventBusPolicy":
        return f"arn:aws:events:{region}:{account}:event-bus/{inputs.get('eventBusName') or 'default'}"
    if record.type == "aws:sns/topicPolicy:TopicPolicy":
        return str(inputs["arn"])
    if record.type == "aws:sqs/queuePolicy:QueuePolicy":
        url = str(inputs.get("queueUrl", ""))
        return f"arn:aws:sqs:{region}:{account}:{url.rstrip('/').rsplit('/', 1)[-1]}"
    if record.type == "aws:apigateway/restApiPolicy:RestApiPolicy":
        return f"arn:aws:execute-api:{region}:{account}:{inputs['restApiId']}"
    if record.type == "aws:apigateway/restApi:RestApi":
        return f"arn:aws:execute-api:{region}:{account}:{record.id}"
    return record.arn


def _resource_policy(record: PlannedResource, model: AccessModel) -> None:
    if record.type == "aws:lambda/permission:Permission":
        _lambda_permission(record, model)
        return
    if record.type not in _RESOURCE_POLICIES:
        return
    kind, key = _RESOURCE_POLICIES[record.type]
    arn = _resource_arn(record)
    tags = _tags(record.inputs) if record.type == "aws:kms/key:Key" else {}
    existing = model.resources.get(arn)
    policy = document(record.inputs[key], f"{record.stack}:{record.name}") if record.inputs.get(key) else None
    if existing is None:
        model.resources[arn] = Resource(arn, kind, record.account, record.stack, policy, tags, record.name)
    elif policy is not None:
        existing.policy, existing.source = policy, record.name


def _lambda_permission(record: PlannedResource, model: AccessModel) -> None:
    """``aws:lambda/permission:Permission`` -> a statement of the function's resource policy."""
    inputs = record.inputs
    function = str(inputs["function"])
    arn = function if function.startswith("arn:") else f"arn:aws:lambda:{record.region}:{record.account}:function:{function}"
    if inputs.get("qualifier"):
        arn = f"{arn}:{inputs['qualifier']}"
    principal = str(inputs["principal"])
    condition: dict[str, Any] = {}
    if inputs.get("sourceArn"):
        condition["ArnLike"] = {"aws:SourceArn": inputs["sourceArn"]}
    if inputs.get("sourceAccount"):
        condition["StringEquals"] = {"aws:SourceAccount": inputs["sourceAccount"]}
    statement: dict[str, Any] = {
        "Sid": record.name,
        "Effect": "Allow",
        "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
        "Action": inputs.get("action", "lambda:InvokeFunction"),
        "Resource": arn,
    }
    if condition:
        statement["Condition"] = condition
    resource = model.resources.setdefault(arn, Resource(arn, "lambda-function", record.account, record.stack, {"Version": "2012-10-17", "Statement": []}, {}, record.name))
    assert resource.policy is not None
    resource.policy["Statement"].append(statement)


# ---- CloudFormation templates (Service Catalog products) -------------------------------------------


_SUB = re.compile(r"\$\{([^}!]+)\}")


def template_resources(template: dict[str, Any], parameters: dict[str, str], *, stack: str, account: str, region: str, source: str) -> list[PlannedResource]:
    """The IAM-relevant resources of a CloudFormation template, launched with ``parameters``.

    Roles become ``aws:iam/role:Role`` records (name, path, boundary, managed policies, inline policies,
    trust, tags) and model package groups ``...ModelPackageGroupPolicy`` records, so
    :func:`build_model` treats them like planned resources.
    """
    values = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws", "AWS::StackName": f"SC-{account}-pp-journey"}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in parameters:
            values[name] = parameters[name]
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise ModelError(f"{source}: template parameter {name} needs a value (product_parameters in the journeys file)")
    logical_arns: dict[str, str] = {}
    for logical, spec in (template.get("Resources") or {}).items():
        if spec.get("Type") == "AWS::IAM::Role":
            props = _cfn(spec.get("Properties") or {}, values, {}, source)
            logical_arns[logical] = f"arn:aws:iam::{account}:role{props.get('Path', '/')}{props['RoleName']}"
    out: list[PlannedResource] = []
    for logical, spec in (template.get("Resources") or {}).items():
        props = _cfn(spec.get("Properties") or {}, values, logical_arns, source)
        name = f"{source}/{logical}"
        if spec.get("Type") == "AWS::IAM::Role":
            inputs = {
                "name": props["RoleName"],
                "path": props.get("Path", "/"),
                "assumeRolePolicy": props.get("AssumeRolePolicyDocument"),
                "permissionsBoundary": props.get("PermissionsBoundary"),
                "managedPolicyArns": props.get("ManagedPolicyArns") or [],
                "inlinePolicies": [{"name": p["PolicyName"], "policy": p["PolicyDocument"]} for p in props.get("Policies") or []],
                "tags": props.get("Tags") or [],
            }
            out.append(PlannedResource(stack, account, region, "aws:iam/role:Role", name, inputs, logical_arns[logical], props["RoleName"]))
        elif spec.get("Type") == "AWS::SageMaker::ModelPackageGroup" and props.get("ModelPackageGroupPolicy"):
            inputs = {"modelPackageGroupName": props["ModelPackageGroupName"], "resourcePolicy": props["ModelPackageGroupPolicy"]}
            out.append(PlannedResource(stack, account, region, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", name, inputs))
    return out


def _cfn(value: Any, values: dict[str, str], arns: dict[str, str], source: str) -> Any:
    """Resolve Ref, Fn::Sub, Fn::Join and Fn::GetAtt (role ARNs) in a template fragment."""
    if isinstance(value, list):
        return [_cfn(v, values, arns, source) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            if arg in values:
                return values[arg]
            return f"{source}:{arg}"
        if key == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else (arg[0], _cfn(arg[1], values, arns, source))
            scope = {**values, **local}
            return _SUB.sub(lambda m: str(scope.get(m.group(1), m.group(0))), text)
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(p) for p in _cfn(parts, values, arns, source))
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if attribute == "Arn" and logical in arns:
                return arns[logical]
            return f"{source}:{logical}.{attribute}"
    return {k: _cfn(v, values, arns, source) for k, v in value.items()}
