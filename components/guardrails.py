"""The explicit SageMaker deny guardrails (guardrails.md §4) as two managed policies.

One data file, ``components/data/sagemaker_guardrails.json``, holds both documents with three
placeholders that :func:`render_guardrails` replaces with the stack's real IDs:

* ``${SubnetIds}``: the private subnets jobs, models and domains may use;
* ``${SecurityGroupIds}``: the security groups they may use (Studio users', the domain's, job groups);
* ``${SageMakerApiEndpointIds}``: the ``sagemaker.api`` interface endpoint(s) through which alone a
  Studio sign-in URL (``CreatePresignedDomainUrl``) may be requested.

The two are separate managed policies because together they exceed IAM's 6,144-character limit.
Each carries the tag ``mlops:guardrail=sagemaker-deny-network|sagemaker-deny-encryption``, by which
the guardrail pack recognises them. Attach both to every role SageMaker uses or that can create
SageMaker resources (Studio execution roles, pipeline/job roles, build roles)::

    guardrails = SageMakerGuardrails("exp-guardrails", SageMakerGuardrailsArgs(...), opts=...)
    guardrails.attach(role.name, "alice-exec")      # one RolePolicyAttachment per policy
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

DATA_FILE = Path(__file__).with_name("data") / "sagemaker_guardrails.json"
GUARDRAIL_TAG_KEY = "mlops:guardrail"
KINDS = ("sagemaker-deny-network", "sagemaker-deny-encryption")
PLACEHOLDERS = {
    "${SubnetIds}": "subnet_ids",
    "${SecurityGroupIds}": "security_group_ids",
    "${SageMakerApiEndpointIds}": "sagemaker_api_endpoint_ids",
}


def load_templates() -> dict[str, dict[str, Any]]:
    """The two guardrail entries of the data file: ``{kind: {"description", "document"}}``."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {kind: raw[kind] for kind in KINDS}


def _substitute(value: Any, values: dict[str, list[str]]) -> Any:
    if isinstance(value, str) and value in PLACEHOLDERS:
        return sorted(values[PLACEHOLDERS[value]])
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    return value


def render_guardrails(
    subnet_ids: list[str], security_group_ids: list[str], sagemaker_api_endpoint_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Both documents with the placeholders replaced (pure). Raises on an empty list."""
    values = {
        "subnet_ids": list(subnet_ids),
        "security_group_ids": list(security_group_ids),
        "sagemaker_api_endpoint_ids": list(sagemaker_api_endpoint_ids),
    }
    for key, items in values.items():
        if not items:
            raise ValueError(f"guardrails need at least one of {key} (an empty allow-list denies nothing useful)")
    # IAM's 6,144-character limit on the result is checked on every plan with the other AWS limits
    # (mlops_platform/limits), one line naming the policy, instead of failing the program here.
    return {kind: _substitute(entry["document"], values) for kind, entry in load_templates().items()}


def minified(document: dict[str, Any]) -> str:
    """The document as IAM counts it (no whitespace)."""
    return json.dumps(document, separators=(",", ":"))


@dataclass
class SageMakerGuardrailsArgs:
    """Inputs of :class:`SageMakerGuardrails`."""

    name_prefix: str
    """Policy name prefix, e.g. ``mlops`` -> ``mlops-sagemaker-deny-network``."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets SageMaker may use."""
    security_group_ids: list[pulumi.Input[str]]
    """Security groups SageMaker resources may use (every one the stack gives to SageMaker)."""
    sagemaker_api_endpoint_ids: list[pulumi.Input[str]]
    """The ``sagemaker.api`` interface endpoint ID(s) of the VPC."""
    tags: dict[str, str] = field(default_factory=dict)


class SageMakerGuardrails(pulumi.ComponentResource):
    """The network and encryption deny policies, and a helper to attach both to a role.

    The network policy admits ``args.security_group_ids``. A role whose SageMaker resources use
    other groups (a project's jobs, a user's apps) gets its own network policy from
    :meth:`network_policy` with the same subnets and endpoint and only its groups, so no shared
    document lists every project's or person's security group.
    """

    policies: dict[str, aws.iam.Policy]
    policy_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: SageMakerGuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:guardrails:SageMakerGuardrails", name, None, opts)
        self._name, self._args = name, args
        self._templates = load_templates()
        self.policies = {
            kind: self._policy(f"{name}-{kind}", f"{args.name_prefix}-{kind}", kind, args.security_group_ids)
            for kind in KINDS
        }
        self.policy_arns = [self.policies[kind].arn for kind in KINDS]
        self.register_outputs({"policyArns": self.policy_arns})

    def _policy(self, resource_name: str, policy_name: str, kind: str, security_group_ids: list[pulumi.Input[str]]) -> aws.iam.Policy:
        args = self._args
        rendered = pulumi.Output.all(
            pulumi.Output.all(*args.subnet_ids),
            pulumi.Output.all(*security_group_ids),
            pulumi.Output.all(*args.sagemaker_api_endpoint_ids),
        ).apply(lambda ids: render_guardrails(ids[0], ids[1], ids[2]))
        return aws.iam.Policy(
            resource_name,
            aws.iam.PolicyArgs(
                name=policy_name,
                description=self._templates[kind]["description"][:1000],
                policy=rendered.apply(lambda docs: minified(docs[kind])),
                tags={**args.tags, GUARDRAIL_TAG_KEY: kind},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def network_policy(self, scope: str, security_group_ids: list[pulumi.Input[str]]) -> aws.iam.Policy:
        """A network deny policy for one project's or person's roles (``<prefix>-sagemaker-deny-network-<scope>``)."""
        kind = "sagemaker-deny-network"
        return self._policy(f"{self._name}-{kind}-{scope}", f"{self._args.name_prefix}-{kind}-{scope}", kind, security_group_ids)

    def attach(
        self,
        role_name: pulumi.Input[str],
        name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        network_policy: aws.iam.Policy | None = None,
    ) -> list[aws.iam.RolePolicyAttachment]:
        """Attach both deny policies to a role (the network one from :meth:`network_policy` if given);
        ``name`` makes the attachment names unique."""
        options = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts)
        chosen = {**self.policies, **({"sagemaker-deny-network": network_policy} if network_policy is not None else {})}
        return [
            aws.iam.RolePolicyAttachment(
                f"{name}-{kind}",
                aws.iam.RolePolicyAttachmentArgs(role=role_name, policy_arn=chosen[kind].arn),
                opts=options,
            )
            for kind in KINDS
        ]


@dataclass
class RoleGuardrailsArgs:
    """Inputs of :class:`RoleGuardrails`."""

    name_prefix: str
    """As :class:`SageMakerGuardrailsArgs`: ``<prefix>-sagemaker-deny-network-<scope>``."""
    scope: str
    """Whose network policy this is (``project-<name>``)."""
    role_name: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: pulumi.Input[list[str]]
    """The only groups the role's SageMaker resources may use."""
    sagemaker_api_endpoint_ids: pulumi.Input[list[str]]
    encryption_policy_arn: pulumi.Input[str]
    """The account's shared encryption guardrail (:class:`SageMakerGuardrails`, another stack's)."""
    previous_names: dict[str, str] = field(default_factory=dict)
    """Child resource name -> the name it had as :class:`SageMakerGuardrails`' child in another stack:
    a ``pulumi state move`` leaves it at this stack's root, where an alias finds it."""
    tags: dict[str, str] = field(default_factory=dict)


class RoleGuardrails(pulumi.ComponentResource):
    """Both deny guardrails on one role, in a stack other than the account's: its own network policy
    (its groups only) and the account's shared encryption policy, attached."""

    def __init__(self, name: str, args: RoleGuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:guardrails:RoleGuardrails", name, None, opts)
        network_kind, encryption_kind = KINDS
        template = load_templates()[network_kind]
        document = pulumi.Output.all(args.subnet_ids, args.security_group_ids, args.sagemaker_api_endpoint_ids).apply(
            lambda ids: minified(render_guardrails(list(ids[0]), list(ids[1]), list(ids[2]))[network_kind])
        )
        network = aws.iam.Policy(
            f"{name}-{network_kind}-policy",
            aws.iam.PolicyArgs(
                name=f"{args.name_prefix}-{network_kind}-{args.scope}",
                description=template["description"][:1000],
                policy=document,
                tags={**args.tags, GUARDRAIL_TAG_KEY: network_kind},
            ),
            opts=self._options(f"{name}-{network_kind}-policy", args),
        )
        for kind, policy_arn in ((network_kind, network.arn), (encryption_kind, args.encryption_policy_arn)):
            aws.iam.RolePolicyAttachment(
                f"{name}-{kind}",
                aws.iam.RolePolicyAttachmentArgs(role=args.role_name, policy_arn=policy_arn),
                opts=self._options(f"{name}-{kind}", args),
            )
        self.network_policy_arn = network.arn
        self.register_outputs({"networkPolicyArn": network.arn})

    def _options(self, child: str, args: RoleGuardrailsArgs) -> pulumi.ResourceOptions:
        previous = args.previous_names.get(child)
        aliases = [pulumi.Alias(name=previous, parent=pulumi.ROOT_STACK_RESOURCE)] if previous else None
        return pulumi.ResourceOptions(parent=self, aliases=aliases)
