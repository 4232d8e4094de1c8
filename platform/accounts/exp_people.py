"""EXP: the persona sign-in roles (SAML federation, or chained from Identity Center permission sets).

One :class:`PersonaRole` per persona someone in ``organization.yaml`` has; its policy names the
workspace's resources (the same context as the execution roles' policies).
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext, persona_sign_in_role
from components.exp_policies import AUDITOR_MANAGED_POLICY, ExpPolicyContext, persona_sign_in_policy
from components.people import PersonaRole, persona_user_names, personas_in_use


def build(context: AccountContext, policies: pulumi.Output[ExpPolicyContext]) -> dict[str, PersonaRole]:
    """Persona -> its sign-in role in EXP."""
    org = context.settings.org
    return {
        persona: persona_sign_in_role(
            context,
            persona,
            persona_user_names(org, persona),
            {"exp": policies.apply(lambda c, persona=persona: persona_sign_in_policy(persona, c))},
            managed_policy_arns=[AUDITOR_MANAGED_POLICY] if persona == "auditor" else [],
        )
        for persona in personas_in_use(org)
    }
