"""Readers for what one component declared under the mocks (helpers of tests/components/).

The values below are deliberately *not* the committed configuration's (organization.yaml runs in
eu-central-1 with accounts 1111... to 6666...), so a test that passes here exercises the component's
own derivation of names, ARNs and service names, not a value copied from the config.
"""

from __future__ import annotations

import json
from typing import Any

from mlops_platform.harness import DeclarationPlan, ResourceRecord

ACCOUNT = "123456789012"
PEER_ACCOUNT = "210987654321"
#: A region the committed config never uses.
REGION = "eu-west-1"
THREE_AZ_IDS = ["euw1-az1", "euw1-az2", "euw1-az3"]
VPC_CIDR = "10.70.0.0/20"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
LOGS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-alerts"
SUBNET_IDS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"]
SECURITY_GROUP_IDS = ["sg-0ddddddddddddddd4"]
VPC_ID = "vpc-0eeeeeeeeeeeeeee5"
PREFIX_LIST_ID = "pl-0fffffff"
#: Internet-wide destinations no isolated workload may have a rule to.
ANYWHERE = {"0.0.0.0/0", "::/0"}


def document(record: ResourceRecord, key: str = "policy") -> dict[str, Any]:
    """A JSON document input (policy, trust policy, definition) of a record, parsed."""
    value = record.inputs.get(key)
    assert isinstance(value, str), f"{record.type} {record.name}: input {key} is not a JSON string: {value!r}"
    return json.loads(value)


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    matches = [s for s in doc["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"expected one statement {sid}, found Sids {[s.get('Sid') for s in doc['Statement']]}"
    return matches[0]


def sids(doc: dict[str, Any]) -> list[str]:
    return [s.get("Sid", "") for s in doc["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def only(plan: DeclarationPlan, type_token: str) -> ResourceRecord:
    """The single resource of a type (fails naming how many there were)."""
    records = plan.of_type(type_token)
    assert len(records) == 1, f"expected exactly one {type_token}, found {[r.name for r in records]}"
    return records[0]


def depends_on(record: ResourceRecord, key: str, other: ResourceRecord) -> bool:
    """Whether input ``key`` of ``record`` is derived from ``other`` (a property dependency)."""
    return other.urn in record.property_dependencies.get(key, [])

