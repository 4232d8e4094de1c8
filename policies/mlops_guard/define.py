"""Defining a policy: one decorator on its check function holds the policy's whole identity.

    @resource_policy(name="kms-key-rotation-enabled", control="ENC-KMS-ROTATION", description=...,
                     severity="medium", types=("aws:kms/key:Key",), refs=("SH:KMS.4",), remediation=...)
    def kms_key_rotation(res, config, report): ...

(``@stack_policy`` likewise for checks over a whole stack; see ``rules/`` for every policy.)

The decorator turns the function into a :class:`GuardPolicy` and records it in ``REGISTER``;
``registry`` imports the rule modules and lists what they defined. A definition the pack cannot
stand behind (no control, a name used twice, an unknown reference) raises
:class:`PolicyDefinitionError` while the module is imported, so a broken pack never loads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, get_args

from mlops_guard.checks import is_platform_deploy_identity
from mlops_guard.model import GuardPolicy, Reference, Report, Resource, Severity

CONTROL_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*")
"""A control ID of the guardrail catalogue (shared/reference/guardrails.md §2), e.g. ``ENC-S3-KMS``."""

REFERENCE_FRAMEWORKS = {"SH": "AWS-FSBP", "CIS": "CIS", "CKV": "checkov"}
"""Prefix of a ``refs`` string -> the framework it names: ``"SH:S3.17"``, ``"CIS:2.1.1"``, ``"CKV:CKV_AWS_145"``."""


class PolicyDefinitionError(Exception):
    """A policy definition is incomplete or clashes with another; ``str()`` names the policy."""


def _skipping_platform_deploy(check: Callable[..., None]) -> Callable[..., None]:
    """The check, skipping the platform deploy role and the managed policies tagged for it.

    The one place the exemption is applied (policies/EXCEPTIONS.md); the rule itself is unchanged.
    """

    @functools.wraps(check)
    def checked(res: Resource, config: Mapping[str, Any], report: Report) -> None:
        if is_platform_deploy_identity(res):
            return
        check(res, config, report)

    return checked


class PolicyRegister:
    """The policies defined so far, in definition order; refuses a policy it cannot trace or tell apart."""

    def __init__(self) -> None:
        self._defined: dict[str, tuple[str, GuardPolicy]] = {}

    def __iter__(self) -> Iterator[GuardPolicy]:
        return (gp for _, gp in self._defined.values())

    def defined_in(self, module: str) -> tuple[GuardPolicy, ...]:
        """The policies a module defined, in the order it defines them."""
        return tuple(gp for where, gp in self._defined.values() if where == module)

    def resource_policy(
        self,
        *,
        name: str,
        control: str,
        description: str,
        severity: Severity,
        types: Sequence[str],
        remediation: str,
        refs: Sequence[str] = (),
        config: Mapping[str, Mapping[str, Any]] | None = None,
        exempt_platform_deploy_role: bool = False,
    ) -> Callable[[Callable[..., None]], GuardPolicy]:
        """Define a policy checked on each resource of ``types``: ``check(res, config, report)``.

        ``control``: the catalogue control the policy implements; every policy has one, so a policy
        without a Security Hub, CIS or checkov equivalent still carries a traceable reference
        (``PolicyComplianceFramework(name="mlops-guardrails")``). ``refs``: external equivalents,
        the first one is the policy's framework. ``config``: JSON-schema properties with defaults.
        ``exempt_platform_deploy_role``: skip the platform deploy role (exemption tag and a
        permissions boundary) and the customer managed policies tagged for it.
        """
        return self._register(
            name=name, control=control, description=description, severity=severity, types=types, remediation=remediation,
            refs=refs, config=config, kind="resource", exempt_platform_deploy_role=exempt_platform_deploy_role,
        )

    def stack_policy(
        self,
        *,
        name: str,
        control: str,
        description: str,
        severity: Severity,
        types: Sequence[str],
        remediation: str,
        refs: Sequence[str] = (),
        config: Mapping[str, Mapping[str, Any]] | None = None,
        uses_context: bool = False,
    ) -> Callable[[Callable[..., None]], GuardPolicy]:
        """Define a policy checked once per stack holding any of ``types``: ``check(resources, config, report)``.

        Arguments as for :meth:`resource_policy`; ``uses_context``: the check may look up resources
        of other stacks (a serving stack's platform stack; offline gate only).
        """
        return self._register(
            name=name, control=control, description=description, severity=severity, types=types, remediation=remediation,
            refs=refs, config=config, kind="stack", uses_context=uses_context,
        )

    def _register(
        self,
        *,
        name: str,
        control: str,
        severity: Severity,
        types: Sequence[str],
        refs: Sequence[str],
        config: Mapping[str, Mapping[str, Any]] | None,
        exempt_platform_deploy_role: bool = False,
        **metadata: Any,
    ) -> Callable[[Callable[..., None]], GuardPolicy]:
        """Check the definition now; record the policy when the decorator is applied to its check."""
        if not isinstance(control, str) or not CONTROL_ID.fullmatch(control):
            raise PolicyDefinitionError(f"{name}: control must be a catalogue control ID such as ENC-S3-KMS (got {control!r})")
        if severity not in get_args(Severity):
            raise PolicyDefinitionError(f"{name}: unknown severity {severity!r}")
        if not types:
            raise PolicyDefinitionError(f"{name}: names no resource types, so it would never run")
        references = tuple(_reference(name, r) for r in refs)

        def register(check: Callable[..., None]) -> GuardPolicy:
            if name in self._defined:  # a duplicate would silently shadow a policy
                raise PolicyDefinitionError(f"{name}: a policy of that name is already defined in {self._defined[name][0]}")
            gp = GuardPolicy(
                name=name,
                severity=severity,
                area=check.__module__.rsplit(".", 1)[-1],
                check=_skipping_platform_deploy(check) if exempt_platform_deploy_role else check,
                control=control,
                types=tuple(types),
                references=references,
                config=config or {},
                exempt_platform_deploy_role=exempt_platform_deploy_role,
                **metadata,
            )
            self._defined[name] = (check.__module__, gp)
            return gp

        return register


def _reference(policy_name: str, ref: str) -> Reference:
    prefix, _, control_id = ref.partition(":")
    if prefix not in REFERENCE_FRAMEWORKS or not control_id:
        raise PolicyDefinitionError(f"{policy_name}: reference {ref!r} is not SH:<id>, CIS:<id> or CKV:<id>")
    return Reference(REFERENCE_FRAMEWORKS[prefix], control_id)  # type: ignore[arg-type]


REGISTER = PolicyRegister()
"""The pack's policies: every rule module defines into this one."""

resource_policy = REGISTER.resource_policy
stack_policy = REGISTER.stack_policy
