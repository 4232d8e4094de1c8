"""EXP: the persona sign-in roles (SAML federation, or chained from Identity Center permission sets).

One :class:`PersonaRole` per persona someone in ``organization.yaml`` has; its policy names the
workspace's resources (the same context as the execution roles' policies).
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext
from components.exp_policies import AUDITOR_MANAGED_POLICY, ExpPolicyContext, persona_sign_in_policy
from components.people import PersonaRole, PersonaRoleArgs, persona_user_names, personas_in_use, sign_in_trust_policy
from mlops_core import naming


def build(context: AccountContext, policies: pulumi.Output[ExpPolicyContext]) -> dict[str, PersonaRole]:
    """Persona -> its sign-in role in EXP."""
    org, account = context.settings.org, context.settings.account_id
    persona_roles: dict[str, PersonaRole] = {}
    for persona in personas_in_use(org):
        persona_roles[persona] = PersonaRole(
            f"exp-persona-{persona.replace('_', '-')}",
            PersonaRoleArgs(
                role_name=naming.persona_role_name(org, persona),
                persona=persona,
                trust_policy=sign_in_trust_policy(org, account, [persona], persona_user_names(org, persona)),
                policies={"exp": policies.apply(lambda c, persona=persona: persona_sign_in_policy(persona, c))},
                managed_policy_arns=[AUDITOR_MANAGED_POLICY] if persona == "auditor" else [],
            ),
            opts=context.opts,
        )
    return persona_roles
