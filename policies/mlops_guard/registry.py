"""Every guardrail policy of the pack, and their CrossGuard form for the real Pulumi CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlops_guard.define import REGISTER
from mlops_guard.model import GuardPolicy, Report, Resource
from mlops_guard.normalize import UNKNOWN, unwrap
from mlops_guard.rules import encryption, iam, images, logging, network, pipeline_definition, public_access, stack

PACK_NAME = "mlops-guardrails"

RULE_MODULES = (encryption, network, iam, logging, images, public_access, pipeline_definition, stack)
"""Importing them defines their policies (``define``); this order is the pack's order."""

ALL_POLICIES: tuple[GuardPolicy, ...] = tuple(p for module in RULE_MODULES for p in REGISTER.defined_in(module.__name__))
_outside = sorted({p.name for p in REGISTER} - {p.name for p in ALL_POLICIES})
if _outside:  # a policy defined outside the rule modules would silently never run
    raise RuntimeError(f"mlops_guard.registry: policies defined outside RULE_MODULES: {_outside}")
BY_NAME: Mapping[str, GuardPolicy] = {p.name: p for p in ALL_POLICIES}

RESOURCE_POLICIES = tuple(p for p in ALL_POLICIES if p.kind == "resource")
STACK_POLICIES = tuple(p for p in ALL_POLICIES if p.kind == "stack")

FRAMEWORK_VERSIONS = {"AWS-FSBP": "1.0.0", "CIS": "3.0.0", "checkov": "3"}


def framework_of(gp: GuardPolicy) -> tuple[str, str | None, str]:
    """(name, version, reference) of the policy's primary external control."""
    if gp.references:
        ref = gp.references[0]
        return ref.framework, FRAMEWORK_VERSIONS.get(ref.framework), ref.id
    return "mlops-guardrails", "1", gp.control


def tags_of(gp: GuardPolicy) -> list[str]:
    """Area, external references (securityhub:/cis:/checkov:) and the catalogue control."""
    return [*gp.tags, f"control:{gp.control}"]


def _unknown_error(reason: str) -> Exception:
    from pulumi_policy.proxy import UnknownValueError

    error = UnknownValueError(UNKNOWN, [])
    error.message = reason  # shown by the server as "can't run policy ... during preview: <reason>"
    return error


def with_defaults(gp: GuardPolicy, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy's config with schema defaults filled in (the CLI does this too; the server does not)."""
    defaults = {k: v["default"] for k, v in gp.config.items() if "default" in v}
    return {**defaults, **{k: v for k, v in (config or {}).items() if k != "enforcementLevel"}}


def _resource_validator(gp: GuardPolicy) -> Callable[[Any, Callable[..., None]], None]:
    types = frozenset(gp.types)

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        if args.resource_type not in types:
            return
        res = Resource(type=args.resource_type, name=args.name, urn=args.urn, props=unwrap(args.props))
        report = Report(default_urn=args.urn, policy=gp.name)
        gp.check(res, with_defaults(gp, args.get_config()), report)
        for finding in report.violations:
            report_violation(finding.message, None)
        if report.not_evaluated:
            raise _unknown_error("; ".join(f.message for f in report.not_evaluated))

    return validate


def _stack_validator(gp: GuardPolicy) -> Callable[[Any, Callable[..., None]], None]:
    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        resources = [
            Resource(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                props=unwrap(r.props),
                property_dependencies={k: [d.urn for d in v] for k, v in (r.property_dependencies or {}).items()},
            )
            for r in args.resources
        ]
        report = Report(default_urn="", policy=gp.name)
        gp.check(resources, with_defaults(gp, args.get_config()), report)
        for finding in report.violations:
            report_violation(finding.message, finding.urn or None)
        if report.not_evaluated:
            raise _unknown_error("; ".join(f.message for f in report.not_evaluated))

    return validate


def crossguard_policies() -> list[Any]:
    """The pack's policies as pulumi_policy objects (mandatory by default, never remediating)."""
    from pulumi_policy import (
        PolicyComplianceFramework,
        PolicyConfigSchema,
        ResourceValidationPolicy,
        Severity,
        StackValidationPolicy,
    )

    built: list[Any] = []
    for gp in ALL_POLICIES:
        name, version, reference = framework_of(gp)
        common: dict[str, Any] = {
            "name": gp.name,
            "description": gp.description,
            "config_schema": PolicyConfigSchema(properties=dict(gp.config)) if gp.config else None,
            "severity": Severity(gp.severity),
            "framework": PolicyComplianceFramework(name=name, version=version, reference=reference),
            "tags": tags_of(gp),
            "remediation_steps": gp.remediation,
        }
        if gp.kind == "resource":
            built.append(ResourceValidationPolicy(validate=_resource_validator(gp), **common))
        else:
            built.append(StackValidationPolicy(validate=_stack_validator(gp), **common))
    return built
