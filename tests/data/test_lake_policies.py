"""The DATA roles' documents (pure builders) lint clean and stay scoped to the lake."""

from __future__ import annotations

from data_policy_lint import lint_findings

from components.data_lake import DataLakeArgs, data_key_args, etl_role_policy, registration_role_policy
from components.encryption import key_policy

ACCOUNT = "111111111111"
KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
RAW, CURATED, ETL = (f"arn:aws:s3:::mlops-lake-{zone}-{ACCOUNT}-eu-central-1" for zone in ("raw", "curated", "etl"))
SECRET = f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:mlops/data/pseudonymisation-hmac-key-AbCdEf"


def etl_policy() -> dict:
    return etl_role_policy(
        account_id=ACCOUNT, region="eu-central-1", database_names=["mlops_welding_sensors"],
        raw_bucket_arn=RAW, curated_bucket_arn=CURATED, etl_bucket_arn=ETL, secret_arn=SECRET, key_arn=KEY,
        connection_name="mlops-data-vpc",
    )


def test_etl_role_policy_lints_clean() -> None:
    assert lint_findings(etl_policy()) == [], "ETL role policy"


def test_registration_role_policy_lints_clean() -> None:
    assert lint_findings(registration_role_policy([RAW, CURATED], KEY)) == [], "registration role policy"


def test_etl_role_cannot_write_the_raw_zone() -> None:
    for statement in etl_policy()["Statement"]:
        if {"s3:PutObject", "s3:DeleteObject"} & set(statement["Action"]):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert not any(r.startswith(RAW) for r in resources), f"{statement['Sid']} writes the raw zone"


def test_etl_role_uses_only_wildcards_where_actions_have_no_resource_type() -> None:
    star = {a for s in etl_policy()["Statement"] if s["Resource"] == "*" for a in s["Action"]}
    allowed = {"lakeformation:GetDataAccess", "cloudwatch:PutMetricData"}
    assert all(a in allowed or a.startswith("ec2:Describe") for a in star), sorted(star)


def test_registration_role_reaches_only_raw_and_curated() -> None:
    resources = {r for s in registration_role_policy([RAW, CURATED], KEY)["Statement"] for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    assert not any(r.startswith(ETL) for r in resources) and resources >= {RAW, CURATED, KEY}, sorted(resources)


def test_data_key_grants_glue_logs_only_for_glue_log_groups() -> None:
    args = DataLakeArgs(
        account_id=ACCOUNT, region="eu-central-1", name_prefix="mlops", key_alias="alias/mlops-data",
        bucket_names={}, access_log_bucket="logs", deploy_role_arn=f"arn:aws:iam::{ACCOUNT}:role/mlops-deploy",
        registration_role_name="mlops-lakeformation-registration", etl_role_name="mlops-data-etl",
        database_names=[], hmac_secret_name="s", vpc_id="vpc", vpc_cidr="10.10.0.0/20", subnet_ids=[], s3_prefix_list_id="pl",
    )
    policy = key_policy(data_key_args(args))
    (logs,) = [s for s in policy["Statement"] if s.get("Principal", {}).get("Service") == "logs.eu-central-1.amazonaws.com"]
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context == f"arn:aws:logs:eu-central-1:{ACCOUNT}:log-group:/aws-glue/*", context


def test_registration_role_is_assumable_only_by_lake_formation() -> None:
    from components.data_lake import registration_trust_policy

    (statement,) = registration_trust_policy()["Statement"]
    assert statement["Principal"] == {"Service": "lakeformation.amazonaws.com"}, statement
    assert statement["Action"] == ["sts:AssumeRole"], statement


def test_planned_etl_role_trusts_glue_of_this_account_only(data_plan) -> None:
    import json

    role = data_plan.named("data-lake-etl-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "glue.amazonaws.com"}, role.urn
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT, role.urn
