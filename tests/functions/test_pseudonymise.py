"""Pseudonymising ETL functions on sample rows (no Spark): keyed HMAC, drops, schema, key loading."""

from __future__ import annotations

import hashlib
import hmac
import json

import boto3
import pytest
from botocore.stub import Stubber

from mlops_etl.pseudonymise import (
    ColumnSpec,
    KeyMaterialError,
    SchemaError,
    build_curated_schema,
    check_declared_schema,
    check_source_columns,
    columns_argument,
    grantable_columns,
    load_hmac_key,
    make_partition_function,
    make_row_transformer,
    parse_columns,
    parse_columns_argument,
    pseudonym,
)

KEY = b"k" * 32
OTHER_KEY = b"q" * 32

# A welding-sensor data set (the seed project's data) with the identifiers a plant would attach.
COLUMNS = [
    {"name": "robot_id", "type": "string", "pii": False},
    {"name": "weld_current_ka", "type": "double", "pii": False},
    {"name": "operator_id", "type": "string", "pii": True, "treatment": "pseudonymise"},
    {"name": "operator_name", "type": "string", "pii": True, "treatment": "drop"},
    {"name": "gun_serial", "type": "bigint", "pii": True, "treatment": "pseudonymise"},
    {"name": "supervisor_email", "type": "string", "pii": True},  # no treatment: default drop
    {"name": "fault", "type": "int", "pii": False},
]
ROWS = [
    {"robot_id": "R16", "weld_current_ka": 11.69, "operator_id": "W-1042", "operator_name": "Anna Berger",
     "gun_serial": 880213, "supervisor_email": "j.huber@example.com", "fault": 0},
    {"robot_id": "R04", "weld_current_ka": 11.15, "operator_id": "W-1043", "operator_name": "Luca Rossi",
     "gun_serial": 880214, "supervisor_email": "j.huber@example.com", "fault": 1},
    {"robot_id": "R17", "weld_current_ka": 12.13, "operator_id": "W-1042", "operator_name": "Anna Berger",
     "gun_serial": None, "supervisor_email": None, "fault": 0},
]


def curate(rows, key=KEY, columns=COLUMNS):
    transform = make_row_transformer(parse_columns(columns), key)
    return [transform(row) for row in rows]


def independent_hmac(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


# --- the transformation --------------------------------------------------------------------------


def test_pseudonymised_column_holds_the_keyed_hmac_of_the_value():
    assert curate(ROWS)[0]["operator_id"] == independent_hmac("W-1042", KEY)


def test_plain_sha256_is_not_used():
    plain = hashlib.sha256(b"W-1042").hexdigest()
    assert curate(ROWS)[0]["operator_id"] != plain, "operator_id is a plain hash: reversible by dictionary"


def test_rfc4231_test_case_2_vector():
    # RFC 4231, HMAC-SHA-256 test case 2 (key "Jefe"): pins the algorithm, not our own output.
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert pseudonym("what do ya want for nothing?", b"Jefe") == expected


def test_same_value_under_the_same_key_is_deterministic():
    first, _, third = curate(ROWS)
    assert first["operator_id"] == third["operator_id"], "W-1042 must map to one pseudonym under one key"


def test_same_value_under_another_key_gives_another_output():
    assert curate(ROWS, KEY)[0]["operator_id"] != curate(ROWS, OTHER_KEY)[0]["operator_id"]


def test_different_values_get_different_pseudonyms():
    first, second, _ = curate(ROWS)
    assert first["operator_id"] != second["operator_id"]


def test_non_string_pii_is_pseudonymised_from_its_text_form():
    assert curate(ROWS)[0]["gun_serial"] == independent_hmac("880213", KEY)


def test_null_pii_stays_null():
    assert curate(ROWS)[2]["gun_serial"] is None


def test_non_pii_columns_are_untouched():
    for raw, curated in zip(ROWS, curate(ROWS)):
        assert {name: curated[name] for name in ("robot_id", "weld_current_ka", "fault")} == {
            name: raw[name] for name in ("robot_id", "weld_current_ka", "fault")
        }


def test_dropped_columns_are_absent():
    for curated in curate(ROWS):
        assert "operator_name" not in curated and "supervisor_email" not in curated


def test_no_raw_pii_value_survives_anywhere_in_the_output():
    raw_pii = {"W-1042", "W-1043", "Anna Berger", "Luca Rossi", "j.huber@example.com", 880213, 880214}
    leaked = {value for row in curate(ROWS) for value in row.values()} & raw_pii
    assert not leaked, f"raw PII in curated rows: {leaked}"


def test_curated_row_follows_the_curated_schema_order():
    assert list(curate(ROWS)[0]) == ["robot_id", "weld_current_ka", "operator_id", "gun_serial", "fault"]


def test_row_column_names_match_case_insensitively():
    row = {name.upper(): value for name, value in ROWS[0].items()}
    assert curate([row])[0]["operator_id"] == independent_hmac("W-1042", KEY)


def test_undeclared_column_in_a_row_fails_closed():
    with pytest.raises(SchemaError, match="undeclared columns: badge_number"):
        curate([{**ROWS[0], "badge_number": "B-77"}])


def test_row_missing_a_declared_column_fails():
    row = dict(ROWS[0])
    del row["operator_id"]
    with pytest.raises(SchemaError, match="lacks declared column 'operator_id'"):
        curate([row])


def test_partition_function_yields_tuples_in_curated_order():
    curate_partition = make_partition_function(parse_columns(COLUMNS), KEY)
    first = next(curate_partition(iter(ROWS)))
    assert first == ("R16", 11.69, independent_hmac("W-1042", KEY), independent_hmac("880213", KEY), 0)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 31])
def test_short_keys_are_refused(key):
    with pytest.raises(KeyMaterialError, match="at least 32"):
        make_row_transformer(parse_columns(COLUMNS), key)


# --- schema --------------------------------------------------------------------------------------


def test_curated_schema_drops_pseudonymises_and_keeps():
    assert [(column["name"], column["type"], column["pseudonymised"]) for column in build_curated_schema(COLUMNS)] == [
        ("robot_id", "string", False),
        ("weld_current_ka", "double", False),
        ("operator_id", "string", True),
        ("gun_serial", "string", True),  # bigint in raw: pseudonyms are hex strings
        ("fault", "int", False),
    ]


def test_pii_without_treatment_defaults_to_drop():
    (spec,) = parse_columns([{"name": "email", "type": "string", "pii": True}])
    assert spec == ColumnSpec(name="email", type="string", pii=True, treatment="drop")


def test_only_non_pii_columns_are_grantable():
    assert grantable_columns(COLUMNS) == ["robot_id", "weld_current_ka", "fault"]


@pytest.mark.parametrize(
    "columns, message",
    [
        ([], "declares no columns"),
        ([{"name": "a", "type": "string", "pii": False, "treatment": "drop"}], "only allowed on a pii column"),
        ([{"name": "a", "type": "string", "pii": True, "treatment": "hash"}], "treatment must be one of"),
        ([{"name": "a", "type": "string", "pii": "yes"}], "pii must be true or false"),
        ([{"name": "a", "type": "string"}, {"name": "A", "type": "int"}], "declared twice"),
        ([{"name": "", "type": "string"}], r"columns\[0\]\.name"),
        ([{"name": "a", "type": ""}], "type must be a non-empty string"),
        ([{"name": "a", "type": "string", "pii": True}], "every column is dropped"),
    ],
)
def test_invalid_column_lists_are_refused_with_one_line(columns, message):
    with pytest.raises(SchemaError, match=message) as raised:
        build_curated_schema(columns)
    assert "\n" not in str(raised.value)


def test_columns_argument_round_trips_through_the_glue_argument():
    assert parse_columns_argument(columns_argument(COLUMNS)) == parse_columns(COLUMNS)


def test_columns_argument_is_json_with_the_default_treatment_filled_in():
    as_json = json.loads(columns_argument(COLUMNS))
    assert as_json[5] == {"name": "supervisor_email", "type": "string", "pii": True, "treatment": "drop"}


@pytest.mark.parametrize("text, message", [("{", "not valid JSON"), ('{"name": "a"}', "must be a JSON list")])
def test_bad_glue_argument_is_refused(text, message):
    with pytest.raises(SchemaError, match=message):
        parse_columns_argument(text)


def test_source_with_an_undeclared_column_is_refused():
    names = [column["name"] for column in COLUMNS] + ["badge_number"]
    with pytest.raises(SchemaError, match="undeclared source columns badge_number"):
        check_source_columns(names, parse_columns(COLUMNS))


def test_source_missing_a_declared_column_is_refused():
    names = [column["name"] for column in COLUMNS if column["name"] != "fault"]
    with pytest.raises(SchemaError, match="missing from the source: fault"):
        check_source_columns(names, parse_columns(COLUMNS))


def test_matching_source_passes():
    check_source_columns([column["name"].upper() for column in COLUMNS], parse_columns(COLUMNS))


def test_declared_curated_table_must_match_the_curated_schema():
    declared = [{"Name": c["name"], "Type": c["type"]} for c in build_curated_schema(COLUMNS)]
    check_declared_schema(declared, build_curated_schema(COLUMNS))
    declared[3]["Type"] = "bigint"
    with pytest.raises(SchemaError, match="differ from the curated schema"):
        check_declared_schema(declared, build_curated_schema(COLUMNS))


# --- the key from Secrets Manager ------------------------------------------------------------------

SECRET_ID = "arn:aws:secretsmanager:eu-central-1:111111111111:secret:mlops/data/pseudonymisation-key-AbCdEf"


@pytest.fixture
def secretsmanager():
    client = boto3.client("secretsmanager", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def secret_response(**value) -> dict:
    return {"ARN": SECRET_ID, "Name": "mlops/data/pseudonymisation-key", "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE", **value}


def test_key_is_read_from_secret_string(secretsmanager):
    client, stubber = secretsmanager
    stubber.add_response("get_secret_value", secret_response(SecretString="a" * 64), {"SecretId": SECRET_ID})
    assert load_hmac_key(SECRET_ID, client) == b"a" * 64


def test_key_is_read_from_secret_binary(secretsmanager):
    client, stubber = secretsmanager
    stubber.add_response("get_secret_value", secret_response(SecretBinary=bytes(range(32))), {"SecretId": SECRET_ID})
    assert load_hmac_key(SECRET_ID, client) == bytes(range(32))


def test_short_secret_is_refused_without_revealing_it(secretsmanager):
    client, stubber = secretsmanager
    stubber.add_response("get_secret_value", secret_response(SecretString="hunter2"), {"SecretId": SECRET_ID})
    with pytest.raises(KeyMaterialError) as raised:
        load_hmac_key(SECRET_ID, client)
    assert "7 bytes" in str(raised.value) and "hunter2" not in str(raised.value)
