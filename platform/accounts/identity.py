"""The optional ``identity`` stack: IAM Identity Center sign-in for the platform's personas.

It runs in the organisation's management (or delegated-administrator) account, the only place
permission sets can be created, and only when ``identity.mode`` is ``identity-center``. It is not a
workload account: no VPC, no baseline.

Per persona with people: a permission set ``<p>-<persona>`` whose only right is to chain into that
persona's sign-in roles in the platform accounts (the account stacks define what those roles may
do, so rights are written once for both identity modes), and, where ``identity.groupIds`` names
the persona's Identity Store group, the assignment of the permission set to that group in each
account where the persona has a role. The user's name reaches the roles as the session tag
``identity.userNameTag`` through Identity Center's attributes for access control.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from components.people import (
    PersonaPermissionSet,
    PersonaPermissionSetArgs,
    UserNameAttribute,
    UserNameAttributeArgs,
    permission_set_name,
    personas_in_use,
)
from components.release_access import RELEASE_APPROVERS, RES_ACCESS, STAGE_ACCESS
from mlops_core import naming
from mlops_core.config import OrganizationConfig, StackSettings


def persona_sign_in_roles(org: OrganizationConfig, persona: str) -> dict[str, list[str]]:
    """Account ID -> the sign-in role ARNs a persona may chain into there (pure; tested)."""
    accounts = org.accounts
    persona_role = naming.persona_role_name(org, persona)
    roles: dict[str, list[str]] = {accounts.exp: [naming.role_arn(accounts.exp, persona_role)]}
    res_roles = [naming.role_arn(accounts.res, persona_role)] if persona in RES_ACCESS else []
    res_roles += [
        naming.role_arn(accounts.res, naming.release_approver_role_name(org, stage))
        for stage, personas in sorted(RELEASE_APPROVERS.items())
        if persona in personas
    ]
    if res_roles:
        roles[accounts.res] = res_roles
    for stage, access in STAGE_ACCESS.items():
        if persona in access:
            account = accounts.by_role()[stage]
            roles[account] = [naming.role_arn(account, persona_role)]
    return roles


def chain_policy(roles_by_account: dict[str, list[str]]) -> dict[str, Any]:
    """The permission set's one right: assume the persona's sign-in roles, tagging the session."""
    arns = sorted(arn for arns in roles_by_account.values() for arn in arns)
    return policy_document([statement("ChainIntoPersonaRoles", ["sts:AssumeRole", "sts:TagSession"], arns)])


def build(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """Declare the permission sets, the user-name attribute and the group assignments."""
    org = settings.org
    instance = str(org.identity.identity_center_instance_arn)
    opts = pulumi.ResourceOptions(provider=provider)
    UserNameAttribute(
        "identity-user-name",
        UserNameAttributeArgs(instance_arn=instance, user_name_tag=org.identity.user_name_tag),
        opts=opts,
    )
    permission_sets: dict[str, pulumi.Output[str]] = {}
    for persona in personas_in_use(org):
        roles = persona_sign_in_roles(org, persona)
        permission_set = PersonaPermissionSet(
            f"identity-{persona.replace('_', '-')}",
            PersonaPermissionSetArgs(
                instance_arn=instance,
                permission_set_name=permission_set_name(org, persona),
                persona=persona,
                documents=[json.dumps(chain_policy(roles))],
                description=f"{persona} persona: chains into {org.platform_name}-persona roles",
            ),
            opts=opts,
        )
        permission_sets[persona] = permission_set.arn
        group = org.identity.group_ids.get(persona)  # type: ignore[call-overload]
        for account in sorted(roles) if group else []:
            aws.ssoadmin.AccountAssignment(
                f"identity-{persona.replace('_', '-')}-{account}",
                aws.ssoadmin.AccountAssignmentArgs(
                    instance_arn=instance,
                    permission_set_arn=permission_set.arn,
                    principal_id=group,
                    principal_type="GROUP",
                    target_id=account,
                    target_type="AWS_ACCOUNT",
                ),
                opts=pulumi.ResourceOptions(parent=permission_set),
            )
    return {"role": settings.role, "accountId": settings.account_id, "permissionSetArns": permission_sets}
