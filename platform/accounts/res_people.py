"""RES: federated sign-in roles: the release approvers per stage, the DevOps and auditor personas."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from accounts.common import AccountContext, persona_sign_in_role
from components.people import PersonaRole, PersonaRoleArgs, persona_user_names, sign_in_trust_policy
from components.release_access import RELEASE_APPROVERS, RES_ACCESS, approver_policy, res_persona_policy
from mlops_core import naming


@dataclass
class ReleasePeople:
    """Role ARNs by stage (approvers) and by persona."""

    approvers: dict[str, pulumi.Output[str]]
    persona_roles: dict[str, pulumi.Output[str]]


def build(context: AccountContext) -> ReleasePeople:
    """A role per stage that has approvers, and per persona with RES access that someone has."""
    return ReleasePeople(approvers=_approvers(context), persona_roles=_persona_roles(context))


def _approvers(context: AccountContext) -> dict[str, pulumi.Output[str]]:
    org, account = context.settings.org, context.settings.account_id
    approvers: dict[str, pulumi.Output[str]] = {}
    for stage, personas in RELEASE_APPROVERS.items():
        people = sorted({name for persona in personas for name in persona_user_names(org, persona)})
        if not people:
            continue
        role = PersonaRole(
            f"res-release-approver-{stage}",
            PersonaRoleArgs(
                role_name=naming.release_approver_role_name(org, stage),
                persona=f"approver-{stage}",
                trust_policy=sign_in_trust_policy(org, account, list(personas), people),
                policies={"approve-release": approver_policy(org, stage)},
                description=f"Approves promotions into {stage.upper()} ({', '.join(personas)})",
            ),
            opts=context.opts,
        )
        approvers[stage] = role.arn
    return approvers


def _persona_roles(context: AccountContext) -> dict[str, pulumi.Output[str]]:
    org, account = context.settings.org, context.settings.account_id
    persona_roles: dict[str, pulumi.Output[str]] = {}
    for persona, level in RES_ACCESS.items():
        people = persona_user_names(org, persona)
        document = res_persona_policy(org, persona)
        if not people or document is None:
            continue
        role = persona_sign_in_role(
            context, persona, people, {"release-access": document}, description=f"{persona} in RES: {level}"
        )
        persona_roles[persona] = role.arn
    return persona_roles
