"""DEV / INT / PROD: the deployment role trusted by the RES deployer, and people's sign-in roles.

* ``<p>-serving-deploy`` (:mod:`components.stage_deployment`): trusted only by the RES serving
  deployer role, scoped to serving resources, with a permissions boundary.
* People, per the persona switch (``identity.mode``): with ``iam-federation`` one federated role per
  persona that has access here (:data:`components.release_access.STAGE_ACCESS`: troubleshooting in
  DEV, read-only in INT and PROD). With ``identity-center`` the roles come from permission sets in
  the ``identity`` stack, built from the same documents (:func:`stage_persona_policy`), so nothing
  is declared here.
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext, persona_sign_in_role
from components.people import persona_user_names
from components.release_access import STAGE_ACCESS, stage_persona_policy
from components.stage_deployment import StageDeploymentRole, StageDeploymentRoleArgs, stage_scope
from mlops_core import naming


def build(context: AccountContext) -> None:
    """Declare the stage account's deployment and people roles."""
    settings, baseline = context.settings, context.baseline
    org, stage, account = settings.org, settings.role, settings.account_id
    deployment = StageDeploymentRole(
        f"{stage}-serving-deploy",
        StageDeploymentRoleArgs(
            role_name=naming.stage_deployment_role_name(org),
            boundary_name=naming.stage_deployment_boundary_name(org),
            res_account_id=org.accounts.res,
            deployer_role_arn=naming.role_arn(org.accounts.res, naming.serving_deployer_role_name(org)),
            scope=stage_scope(org, account, [p.name for p in org.model_projects]),
            key_arns=[baseline.platform_key.arn, baseline.logs_key.arn],
        ),
        opts=context.opts,
    )
    context.exports["servingDeploymentRoleArn"] = deployment.arn

    persona_roles: dict[str, pulumi.Output[str]] = {}
    for persona in STAGE_ACCESS.get(stage, {}):
        people = persona_user_names(org, persona)
        document = stage_persona_policy(org, stage, persona, account)
        if not people or document is None:
            continue  # nobody could assume it
        role = persona_sign_in_role(
            context,
            persona,
            people,
            {"serving-access": document},
            description=f"{persona} in {stage.upper()}: {STAGE_ACCESS[stage][persona]}",
        )
        persona_roles[persona] = role.arn
    context.exports["personaRoleArns"] = persona_roles
