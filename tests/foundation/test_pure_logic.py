"""Pure logic of the components, tested without Pulumi."""

from __future__ import annotations

import ast
import ipaddress
from pathlib import Path

import pytest

from components.cidr import private_subnets
from components.encryption import KeyUser, PlatformKeyArgs, ServiceUse, key_policy
from components.endpoints import KNOWN_ENDPOINTS, interface_endpoints
from components.secure_bucket import access_log_bucket_policy, bucket_policy
from mlops_core.paths import REPO_ROOT


def test_subnets_are_quarters_of_the_vpc() -> None:
    plans = private_subnets("10.20.0.0/20", ["euc1-az1", "euc1-az2", "euc1-az3"])
    assert [p.cidr for p in plans] == ["10.20.0.0/22", "10.20.4.0/22", "10.20.8.0/22"]


def test_adding_an_az_keeps_existing_subnets() -> None:
    two = private_subnets("10.20.0.0/20", ["euc1-az1", "euc1-az2"])
    three = private_subnets("10.20.0.0/20", ["euc1-az1", "euc1-az2", "euc1-az3"])
    assert three[:2] == two


def test_subnet_layout_rejects_too_many_azs() -> None:
    with pytest.raises(ValueError):
        private_subnets("10.20.0.0/20", ["a", "b", "c", "d", "e"])


def test_subnets_fit_a_slash_24_vpc() -> None:
    plans = private_subnets("10.9.9.0/24", ["euc1-az1", "euc1-az2"])
    assert all(ipaddress.IPv4Network(p.cidr).prefixlen == 26 for p in plans)


@pytest.mark.parametrize("role", ["data", "exp", "res", "dev", "int", "prod"])
def test_every_role_gets_the_baseline_endpoints(role: str) -> None:
    services = {e.service for e in interface_endpoints(role)}
    assert {"sts", "logs", "kms", "monitoring"} <= services, f"{role}: {services}"


def test_exp_has_studio_and_codeartifact_endpoints() -> None:
    services = {e.service for e in interface_endpoints("exp")}
    assert {"studio", "sagemaker.api", "codeartifact.repositories", "servicecatalog"} <= services


def test_res_has_what_serving_deploys_call() -> None:
    services = {e.service for e in interface_endpoints("res")}
    needed = {"sts", "kms", "sagemaker.api", "ecr.api", "ecr.dkr", "logs", "application-autoscaling", "monitoring",
              "sns", "events", "scheduler", "states", "lambda", "codepipeline", "apigateway"}
    assert needed <= services, f"missing {needed - services}"


def test_studio_endpoint_uses_the_sagemaker_service_prefix() -> None:
    assert KNOWN_ENDPOINTS["studio"].service_name("eu-central-1") == "aws.sagemaker.eu-central-1.studio"


def test_extra_endpoints_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        interface_endpoints("dev", ("no-such-service",))


def test_key_policy_admits_other_accounts_only_by_principal_arn() -> None:
    policy = key_policy(
        PlatformKeyArgs(
            account_id="222222222222",
            alias="alias/x",
            description="x",
            users=[KeyUser("444444444444", ["arn:aws:iam::444444444444:role/mlops-serving-*"], decrypt_only=True)],
        )
    )
    statement = next(s for s in policy["Statement"] if "444444444444" in s["Principal"]["AWS"])
    assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"] == ["arn:aws:iam::444444444444:role/mlops-serving-*"]
    assert statement["Action"] == ["kms:Decrypt", "kms:DescribeKey"]


def test_key_policy_refuses_a_service_without_conditions() -> None:
    with pytest.raises(ValueError, match="confused-deputy"):
        key_policy(PlatformKeyArgs("222222222222", "alias/x", "x", services=[ServiceUse("logs.amazonaws.com", ["kms:Decrypt"], {})]))


def test_bucket_policy_starts_with_the_tls_deny() -> None:
    statements = __import__("json").loads(bucket_policy("arn:aws:s3:::b", []))["Statement"]
    assert statements[0]["Effect"] == "Deny" and statements[0]["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]


def test_access_log_delivery_is_held_to_the_account() -> None:
    statements = __import__("json").loads(access_log_bucket_policy("arn:aws:s3:::logs", "222222222222"))["Statement"]
    delivery = next(s for s in statements if s["Effect"] == "Allow")
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == "222222222222"


def _aws_resource_calls(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain = ast.unparse(node.func)
            parts = chain.split(".")
            if len(parts) == 3 and parts[0] == "aws" and parts[2][:1].isupper() and not parts[2].endswith("Args"):
                yield chain, node


def test_components_pass_typed_args_classes() -> None:
    """Every pulumi-aws resource in components/ gets an ``*Args`` object, so typos fail at construction."""
    for path in sorted((REPO_ROOT / "components").glob("*.py")):
        for chain, call in _aws_resource_calls(path):
            assert len(call.args) >= 2, f"{path.name}:{call.lineno} {chain} without positional args"
            second = call.args[1]
            assert isinstance(second, ast.Call) and ast.unparse(second.func).endswith("Args"), (
                f"{path.name}:{call.lineno}: {chain} must take a typed *Args object"
            )
