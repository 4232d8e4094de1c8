"""Per-account quota counts: what is counted against which default, per VPC where the quota says so."""

from __future__ import annotations

from mlops_platform.harness import ResourceRecord, StackPlan
from mlops_platform.limits.accounts import load_quotas, quota_rows


def endpoint(i: int, vpc: str, kind: str = "Interface") -> ResourceRecord:
    return ResourceRecord(urn=f"urn:pulumi:s::p::aws:ec2/vpcEndpoint:VpcEndpoint::e{i}", type="aws:ec2/vpcEndpoint:VpcEndpoint",
                          name=f"e{i}", custom=True, parent=None, provider=None,
                          inputs={"vpcId": vpc, "vpcEndpointType": kind})


def rows_named(plans, name: str):
    return [row for row in quota_rows(plans) if row.quota.name == name]


def test_51_interface_endpoints_in_one_vpc_are_over_the_default_quota_of_50() -> None:
    plan = StackPlan("exp", "exp", "p", [endpoint(i, "vpc-1") for i in range(51)], {}, "222222222222")
    [row] = rows_named({"exp": plan}, "Interface VPC endpoints per VPC")
    assert (row.used, row.quota.default, row.status, row.quota.code) == (51, 50, "OVER", "vpc/L-29B6F2EB"), row


def test_interface_endpoints_are_counted_per_vpc_and_gateway_endpoints_apart() -> None:
    records = [endpoint(i, "vpc-1") for i in range(30)] + [endpoint(100 + i, "vpc-2") for i in range(30)]
    records += [endpoint(200 + i, "vpc-1", "Gateway") for i in range(5)]
    plan = StackPlan("exp", "exp", "p", records, {}, "222222222222")
    [row] = rows_named({"exp": plan}, "Interface VPC endpoints per VPC")
    assert (row.used, row.status) == (30, "ok"), row


def test_stacks_of_one_account_are_summed() -> None:
    roles = [ResourceRecord(urn=f"urn:r{i}", type="aws:iam/role:Role", name=f"r{i}", custom=True, parent=None,
                            provider=None, inputs={}) for i in range(900)]
    plans = {"prod": StackPlan("prod", "prod", "p", roles[:500], {}, "666666666666"),
             "x-prod": StackPlan("x-prod", "prod", "s", roles[500:], {}, "666666666666")}
    [row] = rows_named(plans, "IAM roles per account")
    assert (row.used, row.status, row.stacks) == (900, "raise", ("prod", "x-prod")), row


def test_every_quota_names_its_source_and_a_positive_default() -> None:
    bad = [q.name for q in load_quotas() if not q.source.startswith("https://docs.aws.amazon.com/") or q.default <= 0]
    assert not bad, bad
