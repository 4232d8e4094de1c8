"""The Model Building portfolio's principal associations wait for the roles they name.

Service Catalog refuses to associate a principal that does not exist. The lead persona's sign-in
role is declared after the product (its policy names the product), so an association given the
role's ARN as a plain string could run first; each association must depend on its role.
"""

from __future__ import annotations

ASSOCIATION = "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation"


def _role_urns_by_arn(plan) -> dict[str, str]:
    return {
        f"arn:aws:iam::{plan.account_id}:role{r.inputs.get('path', '/')}{r.inputs['name']}": r.urn
        for r in plan.of_type("aws:iam/role:Role")
        if r.inputs.get("name")
    }


def _iam_associations(plan) -> list:
    associations = [a for a in plan.of_type(ASSOCIATION) if a.inputs["principalType"] == "IAM"]
    assert associations, "exp declares the Model Building portfolio's launchers"
    return associations


def test_the_lead_sign_in_role_is_a_launcher(exp_plan) -> None:
    lead = f"arn:aws:iam::{exp_plan.account_id}:role/mlops-persona-lead"
    assert lead in [a.inputs["principalArn"] for a in _iam_associations(exp_plan)], "leads cannot launch the product"


def test_every_launcher_association_depends_on_its_role(exp_plan) -> None:
    roles = _role_urns_by_arn(exp_plan)
    for association in _iam_associations(exp_plan):
        principal = association.inputs["principalArn"]
        role_urn = roles.get(principal)
        assert role_urn, f"{association.name}: {principal} is no role of this stack"
        waits_for = set(association.dependencies) | set(association.property_dependencies.get("principalArn", []))
        assert role_urn in waits_for, f"{association.name}: principalArn {principal} is a plain string; it can run before the role exists"
