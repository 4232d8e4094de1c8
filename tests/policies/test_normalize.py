"""IAM document normalisation, unknown values and the policy server's proxies."""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import unknown_checking_proxy

from mlops_guard.inputs import from_records
from mlops_guard.normalize import (
    MISSING,
    UNKNOWN,
    is_present,
    lookup,
    open_secrets,
    parse_policy_document,
    unwrap,
)

DOC = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "S3:GetObject", "Resource": "arn:aws:s3:::b/*"}}


@pytest.mark.parametrize("value", [DOC, json.dumps(DOC)], ids=["dict", "json-string"])
def test_document_as_dict_or_json_string(value) -> None:
    doc = parse_policy_document(value)
    assert [s.actions for s in doc.statements] == [("s3:getobject",)]


def test_statement_object_and_list_are_the_same() -> None:
    as_list = {**DOC, "Statement": [DOC["Statement"]]}
    assert parse_policy_document(DOC).statements == parse_policy_document(as_list).statements


def test_action_and_resource_strings_become_lists() -> None:
    statement = parse_policy_document(DOC).statements[0]
    assert statement.resources == ("arn:aws:s3:::b/*",) and statement.effect == "allow"


def test_principal_star_is_public_and_service_principals_are_kept() -> None:
    doc = parse_policy_document({"Statement": [{"Effect": "Allow", "Principal": "*"}, {"Effect": "Allow", "Principal": {"Service": ["a.amazonaws.com"]}}]})
    assert doc.statements[0].principal_is_public and doc.statements[1].principals == {"Service": ("a.amazonaws.com",)}


def test_malformed_json_is_reported_not_raised() -> None:
    assert parse_policy_document("{nope").malformed


def test_unknown_document_is_flagged() -> None:
    assert parse_policy_document(UNKNOWN).unknown


def test_unknown_counts_as_present_and_missing_does_not() -> None:
    assert is_present(UNKNOWN) and not is_present(MISSING) and not is_present([])


def test_lookup_through_an_unknown_container_yields_the_unknown() -> None:
    assert lookup({"a": UNKNOWN}, "a.b.c") == UNKNOWN
    assert lookup({"a": [{"b": 1}]}, "a.0.b") == 1
    assert lookup({"a": []}, "a.0.b") is MISSING


def test_unwrap_gives_plain_values_behind_the_servers_proxy() -> None:
    props = unknown_checking_proxy({"a": {"b": [UNKNOWN, 1]}})
    assert unwrap(props) == {"a": {"b": [UNKNOWN, 1]}}


def test_secret_objects_open_to_their_value_or_the_blinded_string() -> None:
    sig = "4dabf18193072939515e22adb298388d"
    assert open_secrets({"x": {sig: "1b47061264138c4ac30d75fd1eb44270", "value": "v"}}) == {"x": "v"}
    assert open_secrets({"x": {sig: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "..."}}) == {"x": "[secret]"}


def test_plan_records_keep_their_source_line(platform_plans) -> None:
    records = [r for plan in platform_plans.values() for r in plan.resources if r.source]
    assert records, "the harness captured no source lines"
    resources = from_records(records[:1])
    assert resources[0].source == records[0].source and resources[0].props == records[0].inputs
