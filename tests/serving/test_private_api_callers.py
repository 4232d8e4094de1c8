"""The private API admits only principals of the stage account, through the stage VPC endpoint.

The API uses AWS_IAM authorization, which any authenticated principal of any account passes; a
resource policy that checks only ``aws:SourceVpce`` lets a principal of another account that can
reach the endpoint call it. Evaluated here on the planned PROD serving stack's policy with the
request context API Gateway builds (``aws:PrincipalAccount`` of the signer, ``aws:SourceVpce``).
"""

from __future__ import annotations

import fnmatch
import json

import pytest

POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
OTHER_ACCOUNT = "999988887777"


def _values(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _matches(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if operator == "StringEquals":
                ok = actual is not None and actual in _values(expected)
            elif operator == "StringNotEquals":
                ok = actual is None or actual not in _values(expected)
            else:
                pytest.fail(f"evaluator does not know condition operator {operator}")
            if not ok:
                return False
    return True


def _decision(policy: dict, context: dict[str, str]) -> str:
    """Explicit deny wins; else an allow; else implicit deny (resource-policy side only)."""
    effects = {
        s["Effect"]
        for s in policy["Statement"]
        if any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in _values(s["Action"])) and _matches(s.get("Condition", {}), context)
    }
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else "Implicit"


@pytest.fixture(scope="module")
def api_policy(prod_plan) -> tuple[dict, str, str]:
    (record,) = prod_plan.of_type(POLICY)
    policy = json.loads(record.inputs["policy"])
    vpce = next(v for s in policy["Statement"] for v in _values(s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceVpce", [])))
    return policy, vpce, prod_plan.account_id


def test_the_stage_accounts_callers_through_the_endpoint_are_admitted(api_policy) -> None:
    policy, vpce, account = api_policy
    assert _decision(policy, {"aws:SourceVpce": vpce, "aws:PrincipalAccount": account}) == "Allow", (
        "private API: callers of the stage account through its execute-api endpoint are not admitted"
    )


def test_callers_of_another_account_are_denied_even_through_the_endpoint(api_policy) -> None:
    policy, vpce, _ = api_policy
    assert _decision(policy, {"aws:SourceVpce": vpce, "aws:PrincipalAccount": OTHER_ACCOUNT}) == "Deny", (
        "private API: a principal of another account reaching the stage endpoint may invoke (AWS_IAM alone admits it)"
    )


def test_callers_of_the_stage_account_outside_the_endpoint_are_denied(api_policy) -> None:
    policy, _, account = api_policy
    assert _decision(policy, {"aws:SourceVpce": "vpce-0elsewhere", "aws:PrincipalAccount": account}) == "Deny", (
        "private API: requests outside the stage VPC endpoint are not denied"
    )
