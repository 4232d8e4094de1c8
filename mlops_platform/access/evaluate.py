"""Evaluate the journeys against the access model with the independent engine.

Per step: the principal's identity policies and boundary, the resource's policy, the VPC endpoint's
policy, and the request context the real call carries. The engine invents no context, so this
module supplies what AWS would set from the principal and the path (``aws:PrincipalArn``,
``aws:PrincipalAccount``, ``aws:PrincipalTag/*`` from the role's tags and the session tags,
``aws:SourceVpce``/``aws:SourceVpc`` of the endpoint, ``aws:ResourceTag/*`` of planned KMS keys,
``aws:RequestTag``/``aws:TagKeys`` of session tags at sign-in, ``aws:RequestedRegion`` and
``aws:SecureTransport`` of every call); the step adds what only the call knows
(encryption context, ``kms:GrantIsForAWSResource``, ``aws:CalledVia``, SageMaker job arguments...).
Lake Formation grants are outside IAM: a step that names one is also checked against the plan's grants.
Service Catalog lets only principals associated with a product's portfolio launch it, whatever IAM
allows: every ``servicecatalog:ProvisionProduct`` step is also checked against the plan's principal
associations (``IAM`` exact, ``IAM_PATTERN`` with the account left out and ``*`` wildcards).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from mlops_platform.access.journeys import JourneyError, Step, resolve
from mlops_platform.access.model import AccessModel, ModelError

SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
#: Stand-in suffix of the roles Identity Center creates for a permission set.
SSO_ROLE_SUFFIX = "0123456789abcdef"
#: A principal outside the organisation gets every permission on its own side: only our policies decide.
OUTSIDER_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Settings:
    """What the evaluation needs to know about the organisation."""

    platform: str
    region: str
    identity_mode: str
    user_name_tag: str
    saml_provider_name: str


@dataclass
class Check:
    journey: str
    step: str
    principal: str
    action: str
    resource: str
    expected: str
    result: str
    reasons: list[str] = field(default_factory=list)
    stacks: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        if self.result == "Error":
            return False
        return (self.result == "Allowed") == (self.expected == "Allowed")

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "step": self.step,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "expected": self.expected,
            "result": self.result,
            "reasons": self.reasons,
        }


@dataclass
class Prepared:
    """A step turned into an engine simulation (or an error found before the engine)."""

    step: Step
    principal: str
    resource: str
    simulation: dict[str, Any] | None
    explicit_context: set[str]
    stacks: set[str]
    error: str | None = None
    lake_formation: tuple[bool, str] | None = None
    portfolio: tuple[bool, str] | None = None
    """For a launch: whether the caller is associated with the product's portfolio, and how."""


def _account_of(arn: str, model: AccessModel, fallback: str) -> str:
    parts = arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    resource = model.resource_for(arn)
    if resource is not None:
        return resource.account
    return fallback


def _principal(step: Step, model: AccessModel, settings: Settings) -> tuple[str, dict[str, Any], dict[str, Any], str, set[str]]:
    """(request principal, simulation parts, context, display name, stacks)."""
    spec = step.principal
    if "service" in spec:
        service = spec["service"]
        return service, {"identityPolicies": []}, {"aws:PrincipalServiceName": service, "aws:PrincipalIsAWSService": "true"}, f"service {service}", set()
    if "external" in spec:
        arn = resolve(spec["external"], model, settings.platform, settings.region)
        account = arn.split(":")[4]
        context = {"aws:PrincipalArn": arn, "aws:PrincipalAccount": account}
        return arn, {"identityPolicies": [{"name": "outsider-full-access", "policy": OUTSIDER_POLICY}]}, context, f"outside {arn}", set()
    if "sign_in" in spec:
        return _sign_in(spec, model, settings)
    if "persona" in spec:
        stack = spec["stack"]
        role = model.role_named(stack, f"{settings.platform}-persona-{spec['persona'].replace('_', '-')}")
        tags = {settings.user_name_tag: spec["user"], **step.session_tags}
        display = f"{stack}:{role.name} ({spec['user']})"
    else:
        stack, _, name = spec["role"].partition(":")
        role = model.role_named(stack, name)
        tags = dict(step.session_tags)
        display = f"{stack}:{role.name}"
    session = spec.get("user") or spec.get("session") or "journey"
    principal = f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}"
    context: dict[str, Any] = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": role.account, "aws:PrincipalType": "AssumedRole"}
    for key, value in {**role.tags, **tags}.items():
        context[f"aws:PrincipalTag/{key}"] = value
    parts: dict[str, Any] = {"identityPolicies": [{"name": p.name, "policy": p.document} for p in role.identity_policies]}
    if role.boundary is not None:
        parts["permissionBoundaryPolicies"] = [{"name": role.boundary.name, "policy": role.boundary.document}]
    return principal, parts, context, display, {role.stack}


def _sign_in(spec: dict[str, str], model: AccessModel, settings: Settings) -> tuple[str, dict[str, Any], dict[str, Any], str, set[str]]:
    """The identity a person signs in with: the SAML provider, or the permission set's SSO role."""
    stack, user, persona = spec["stack"], spec["user"], spec["sign_in"]
    account = model.accounts.get(stack)
    if account is None:
        raise JourneyError(f"sign_in: no planned stack {stack!r}")
    if settings.identity_mode == "identity-center":
        permission_set = f"{settings.platform}-{persona.replace('_', '-')}"[:32]
        arn = f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{settings.region}/AWSReservedSSO_{permission_set}_{SSO_ROLE_SUFFIX}"
        session = f"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{permission_set}_{SSO_ROLE_SUFFIX}/{user}"
        planned = model.permission_sets.get(permission_set)
        if planned is None:
            raise JourneyError(f"sign_in {persona}: the identity stack plans no permission set {permission_set!r} with an inline policy")
        context = {"aws:PrincipalArn": arn, "aws:PrincipalAccount": account, f"aws:PrincipalTag/{settings.user_name_tag}": user}
        return session, {"identityPolicies": [{"name": planned.name, "policy": planned.document}]}, context, f"sign-in {permission_set} ({user})", {stack}
    provider = f"arn:aws:iam::{account}:saml-provider/{settings.saml_provider_name}"
    return provider, {"identityPolicies": []}, {"SAML:aud": SAML_AUDIENCE}, f"sign-in {settings.saml_provider_name} ({user})", {stack}


def _sign_in_action(step: Step, settings: Settings) -> str:
    if "sign_in" in step.principal and step.action == "sts:AssumeRole" and settings.identity_mode != "identity-center":
        return "sts:AssumeRoleWithSAML"
    return step.action


def prepare(step: Step, model: AccessModel, settings: Settings) -> Prepared:
    """Resolve a step's references and build its simulation."""
    resource = step.resource
    try:
        resource = resolve(step.resource, model, settings.platform, settings.region)
        principal, parts, context, display, stacks = _principal(step, model, settings)
        if "sign_in" in step.principal:
            tags = {settings.user_name_tag: step.principal["user"], **step.session_tags}
            context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
            context["aws:TagKeys"] = sorted(tags)
        principal_account = context.get("aws:PrincipalAccount") or next(iter(model.accounts.values()))
        holder = model.resource_for(resource)
        if holder is not None:
            stacks.add(holder.stack)
            context.update({f"aws:ResourceTag/{k}": v for k, v in holder.tags.items()})
        elif _needs_resource_policy(resource, step.action):
            raise JourneyError(f"{resource}: no such role or KMS key in the planned stacks")
        endpoint_policies = []
        if step.via:
            via_stack, _, via_name = step.via.partition(":")
            record = model.records.get((via_stack, via_name))
            if record is None or record.id not in model.endpoints:
                raise JourneyError(f"via {step.via}: no such VPC endpoint in the plan")
            endpoint = model.endpoints[record.id]
            endpoint_policies.append({"name": f"{via_stack}:{via_name}", "policy": endpoint.policy})
            context["aws:SourceVpce"] = endpoint.id
            if record.inputs.get("vpcId"):
                context["aws:SourceVpc"] = str(record.inputs["vpcId"])
        # Every real request carries these: the region it is sent to and TLS.
        parts_of_arn = resource.split(":")
        context.setdefault("aws:RequestedRegion", parts_of_arn[3] if len(parts_of_arn) > 3 and parts_of_arn[3] else settings.region)
        context.setdefault("aws:SecureTransport", "true")
        explicit = resolve(step.context, model, settings.platform, settings.region)
        context.update(explicit)
        simulation: dict[str, Any] = {
            "request": {
                "principal": principal,
                "action": _sign_in_action(step, settings),
                "resource": {"resource": resource, "accountId": _account_of(resource, model, str(principal_account))},
                "contextVariables": {k: v if isinstance(v, list) else str(v) for k, v in context.items()},
            },
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
            **parts,
        }
        if holder is not None and holder.policy is not None:
            simulation["resourcePolicy"] = holder.policy
        elif step.aws_owned_resource_policy is not None:
            simulation["resourcePolicy"] = step.aws_owned_resource_policy
        if endpoint_policies:
            simulation["vpcEndpointPolicies"] = endpoint_policies
        prepared = Prepared(step, display, resource, simulation, set(explicit), stacks)
        if step.lake_formation is not None:
            prepared.lake_formation = lake_formation_grant(resolve(step.lake_formation, model, settings.platform, settings.region), model)
        if step.action == "servicecatalog:ProvisionProduct":
            prepared.portfolio = portfolio_association(str(context.get("aws:PrincipalArn", principal)), resource, model)
        return prepared
    except (JourneyError, ModelError) as exc:
        return Prepared(step, _display(step), str(resource), None, set(), set(), error=str(exc))


def _display(step: Step) -> str:
    return ", ".join(f"{k} {v}" for k, v in step.principal.items())


def _needs_resource_policy(arn: str, action: str) -> bool:
    """KMS keys and role trust decide on the resource side: an entry naming one the plan lacks is wrong."""
    return (action.startswith("kms:") and ":key/" in arn) or (action.startswith("sts:") and ":role/" in arn)


def lake_formation_grant(spec: dict[str, Any], model: AccessModel) -> tuple[bool, str]:
    """Whether the plan grants ``spec['permissions']`` to ``spec['principal']`` on ``spec`` 's table or database."""
    principal, wanted = str(spec.get("principal", "")), set(spec.get("permissions") or [])
    table, database = spec.get("table"), spec.get("database")
    for grant in model.grants:
        if grant.principal != principal or not wanted <= set(grant.permissions):
            continue
        names = {str(v.get("name", "")) for v in grant.target.values() if isinstance(v, dict)}
        names |= {str(v.get("tableName", "")) for v in grant.target.values() if isinstance(v, dict)}
        databases = {str(v.get("databaseName", v.get("name", ""))) for v in grant.target.values() if isinstance(v, dict)}
        if (table is None or table in names) and (database is None or database in databases):
            return True, f"Lake Formation grant in {grant.stack}: {', '.join(grant.permissions)} on {sorted(n for n in names if n)}"
    what = f"table {table}" if table else f"database {database}"
    return False, f"no Lake Formation grant of {', '.join(sorted(wanted))} on {what} to {principal}"


def portfolio_association(principal_arn: str, product_arn: str, model: AccessModel) -> tuple[bool, str]:
    """Whether ``principal_arn`` is associated with a portfolio that holds the product ``product_arn``."""
    product = product_arn.rsplit("/", 1)[-1]
    account, caller_account = product_arn.split(":")[4:5], principal_arn.split(":")[4:5]
    if account != caller_account:
        return False, f"Service Catalog: {principal_arn} is not in the product's account (portfolio associations are per account)"
    portfolios = sorted(model.product_portfolios.get(product, set()))
    if not portfolios:
        return False, f"Service Catalog: product {product} is in no planned portfolio"
    for portfolio in portfolios:
        for kind, associated in model.portfolio_principals.get(portfolio, []):
            if _associated(kind, associated, principal_arn):
                return True, f"Service Catalog: {principal_arn} is associated with portfolio {portfolio} ({kind} {associated})"
    return False, f"Service Catalog: {principal_arn} is associated with no portfolio of product {product} ({', '.join(portfolios)})"


def _associated(kind: str, associated: str, principal_arn: str) -> bool:
    if kind == "IAM":
        return associated == principal_arn
    # IAM_PATTERN: "arn:<partition>:iam:::role/<path and name, * wildcards>", any account of the portfolio's.
    wanted, actual = associated.split(":", 5), principal_arn.split(":", 5)
    return len(wanted) == len(actual) == 6 and wanted[:3] == actual[:3] and fnmatchcase(actual[5], wanted[5])


# ---- results ---------------------------------------------------------------------------------------


def _reason(item: dict[str, Any], kind: str) -> str:
    policy = item.get("policyIdentifier") or item.get("identifier") or {"resource": "the resource policy", "vpce": "the endpoint policy"}.get(item.get("policyType", ""), "")
    statement = item.get("statementId") or (f"#{item['statementIndex']}" if "statementIndex" in item else "")
    label = {"identity": "identity policy", "pb": "permissions boundary", "resource": "resource policy", "vpce": "VPC endpoint policy", "scp": "SCP", "rcp": "RCP"}.get(item.get("policyType", ""), item.get("policyType", "policy"))
    if kind == "grant":
        return f"allowed by {label} {policy} statement {statement}".replace("  ", " ").strip()
    if item.get("denialType") == "Explicit":
        return f"explicitly denied by {label} {policy} statement {statement}".replace("  ", " ").strip()
    return f"no statement allows it in the {label}{(' ' + policy) if policy and item.get('policyType') not in ('resource', 'vpce') else ''}"


def checks_from(prepared: list[Prepared], results: dict[str, dict[str, Any]]) -> list[Check]:
    checks = []
    for index, item in enumerate(prepared):
        step = item.step
        check = Check(step.journey, step.step, item.principal, step.action, item.resource, step.expected, "Error", stacks=item.stacks)
        if item.error is not None:
            check.reasons.append(item.error)
            checks.append(check)
            continue
        answer = results.get(str(index), {"result": "Error", "error": {"message": "no answer from the engine"}})
        check.result = str(answer["result"])
        if check.result == "Error":
            check.reasons.append(f"the engine rejected the request: {_error_text(answer.get('error'))}")
        else:
            check.reasons += [_reason(g, "grant") for g in answer.get("grants") or []]
            check.reasons += [_reason(d, "denial") for d in answer.get("denials") or []]
            ignored = sorted(set(answer.get("ignoredContextKeys") or []) & item.explicit_context)
            if ignored:
                check.result = "Error"
                check.reasons.append(f"context key(s) {', '.join(ignored)} do not apply to {step.action} on this resource: fix the entry")
        if item.lake_formation is not None and check.result != "Error":
            granted, text = item.lake_formation
            check.reasons.append(text)
            if check.result == "Allowed" and not granted:
                check.result = "ImplicitlyDenied"
        if item.portfolio is not None and check.result != "Error":
            associated, text = item.portfolio
            check.reasons.append(text)
            if check.result == "Allowed" and not associated:
                check.result = "ImplicitlyDenied"
        if step.aws_owned_resource_policy is not None:
            check.reasons.append("resource policy: AWS's, as stated in the journeys file (not in any plan)")
        if step.beyond_iam:
            check.reasons.append(f"beyond IAM: {step.beyond_iam}")
        checks.append(check)
    return checks


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    details = {k: v for k, v in error.items() if k != "message"}
    return f"{error.get('message', 'error')} {details}" if details else str(error.get("message", "error"))


def evaluate(steps: list[Step], model: AccessModel, settings: Settings, run: Callable[[list[dict[str, Any]]], tuple[str, dict[str, dict[str, Any]]]]) -> list[Check]:
    """Every step, evaluated in one engine batch."""
    prepared = [prepare(step, model, settings) for step in steps]
    batch = [{"id": str(i), "simulation": p.simulation} for i, p in enumerate(prepared) if p.simulation is not None]
    _, results = run(batch) if batch else ("", {})
    return checks_from(prepared, results)


def render_text(checks: list[Check]) -> str:
    failed = [c for c in checks if not c.passed]
    lines = []
    for check in failed:
        lines.append(f"FAIL {check.journey} / {check.step}: {check.principal} {check.action} on {check.resource}: expected {check.expected}, engine says {check.result}")
        lines += [f"     - {reason}" for reason in check.reasons]
    journeys: dict[str, list[Check]] = {}
    for check in checks:
        journeys.setdefault(check.journey, []).append(check)
    for name, items in journeys.items():
        bad = sum(not c.passed for c in items)
        lines.append(f"{'ok  ' if not bad else 'FAIL'} {name}: {len(items) - bad}/{len(items)} steps hold")
    lines.append(f"{len(checks)} checks, {len(failed)} failed")
    return "\n".join(lines) + "\n"
