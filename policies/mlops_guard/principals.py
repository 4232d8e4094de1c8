"""Who a statement admits and whether its condition narrows that: one reader for every rule.

IAM writes the same principal in many forms: ``"*"``, ``{"AWS": "*"}``, a bare account id, an
account root or role ARN (with wildcards anywhere), lists mixing those, service and federated
principals, canonical users. :func:`principals` turns them into :class:`Principal` values that say
whether the principal is anyone, which account it belongs to, or that it is not known yet.

A condition narrows an Allow to the platform only through keys that identify the caller or the
path it came by (organisation, account, VPC endpoint, source ARN, ...), under an operator that
requires a match (``StringEquals``, ``ArnLike``, ...; never a negated operator, ``...IfExists`` or
``Null``, never ``ForAllValues:``, which holds when the key is absent) and with a value that is not a
wildcard. :func:`narrowing` reads that and answers
``True``/``False``, or ``None`` when a value is not known until apply (the caller reports "not
evaluated", never a pass).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from mlops_guard.normalize import Statement, as_list, is_unknown

PrincipalKind = Literal["public", "account", "service", "federated", "canonical", "unknown", "invalid"]

ACCOUNT_ID = re.compile(r"\d{12}")
IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::([^:]*):(.+)$")
WILDCARD = re.compile(r"[*?]")

ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:vpceaccount", "kms:calleraccount"})
"""Keys whose value is an account id: a wildcard in it admits any account."""
ORG_KEYS = frozenset(
    {"aws:principalorgid", "aws:sourceorgid", "aws:vpceorgid", "aws:principalorgpaths", "aws:sourceorgpaths", "aws:vpceorgpaths"}
)
"""Keys whose value names an organisation (or a path in it)."""
ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
"""Keys whose value is an ARN: it narrows when the account in it (or, for account-less ARNs, the resource) is named."""
NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc"})
"""Keys that pin the network path (a VPC endpoint or VPC of the platform)."""
SERVICE_KEYS = frozenset({"kms:viaservice"})
"""Keys that admit a call only through a named AWS service in the caller's account."""
NARROWING_KEYS = ACCOUNT_KEYS | ORG_KEYS | ARN_KEYS | NETWORK_KEYS | SERVICE_KEYS

MATCHING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
"""Operators that admit only the listed values (with ``ForAnyValue:``/``ForAllValues:`` prefixes too)."""


@dataclass(frozen=True)
class Principal:
    """One principal entry as written: ``kind`` tells how to judge it; ``account`` when one is named."""

    kind: PrincipalKind
    value: str
    account: str | None = None

    @property
    def public(self) -> bool:
        return self.kind == "public"


def classify_aws(value: str) -> Principal:
    """An ``AWS`` principal: ``*``, an account id, an IAM/STS ARN (wildcards anywhere) or not known yet."""
    if is_unknown(value):
        return Principal("unknown", value)
    if value == "*":
        return Principal("public", value)
    if ACCOUNT_ID.fullmatch(value):
        return Principal("account", value, value)
    match = IAM_ARN.match(value)
    if match is None:
        return Principal("public", value) if WILDCARD.search(value) else Principal("invalid", value)
    account = match.group(2)
    if not ACCOUNT_ID.fullmatch(account):
        return Principal("public", value)  # "arn:aws:iam::*:root", "arn:aws:iam::12345678901?:role/x": any account
    return Principal("account", value, account)


def principals(stmt: Statement) -> list[Principal]:
    """Every principal the statement names, in every form IAM accepts."""
    found: list[Principal] = []
    for kind, values in stmt.principals.items():
        for value in values:
            if is_unknown(value):
                found.append(Principal("unknown", value))
            elif kind == "*":
                found.append(Principal("public", value))
            elif kind == "AWS":
                found.append(classify_aws(value))
            elif kind == "Service":
                found.append(Principal("public", value) if value == "*" else Principal("service", value))
            elif kind == "Federated":
                found.append(Principal("public", value) if value == "*" else Principal("federated", value))
            elif kind == "CanonicalUser":
                found.append(Principal("canonical", value))
            else:
                found.append(Principal("invalid", f"{kind}:{value}"))
    return found


def _operator(raw: str) -> tuple[str, bool]:
    """Lower-cased base operator and whether it is an ``...IfExists`` variant."""
    name = raw.lower().split(":", 1)[-1]
    if name.endswith("ifexists"):
        return name[: -len("ifexists")], True
    return name, False


def _value_narrows(key: str, value: object) -> bool | None:
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if key in ACCOUNT_KEYS:
        return ACCOUNT_ID.fullmatch(text) is not None
    if key in ARN_KEYS:
        parts = text.split(":", 5)
        if len(parts) < 6 or WILDCARD.search(":".join(parts[:3])):
            return False
        account = parts[4]
        if account:
            return ACCOUNT_ID.fullmatch(account) is not None
        return WILDCARD.sub("", parts[5]) != ""  # an account-less ARN (S3 bucket): a named resource narrows
    if key.endswith("orgpaths"):
        return WILDCARD.search(text.split("/", 1)[0]) is None  # "o-abc/r-1/ou-2/*" names the organisation
    return WILDCARD.search(text) is None


def narrowing(stmt: Statement, keys: Iterable[str] = NARROWING_KEYS) -> bool | None:
    """True when a condition on one of ``keys`` admits only named callers; None when that is not known yet."""
    wanted = {k.lower() for k in keys}
    undecided = False
    for raw_operator, block in stmt.condition.items():
        if not isinstance(block, Mapping):
            continue
        operator, if_exists = _operator(str(raw_operator))
        if operator not in MATCHING_OPERATORS or if_exists or str(raw_operator).lower().startswith("forallvalues:"):
            continue  # ForAllValues is true when the key is absent: it admits callers that carry none
        for raw_key, raw_values in block.items():
            key = str(raw_key).lower()
            if key not in wanted:
                continue
            verdicts = [_value_narrows(key, v) for v in as_list(raw_values)]
            if verdicts and all(v is True for v in verdicts):
                return True
            if verdicts and None in verdicts and False not in verdicts:
                undecided = True
    return None if undecided else False


def foreign_accounts(found: Iterable[Principal], platform: set[str]) -> list[str]:
    """Accounts named by principals that are not platform accounts (empty when no allow-list is configured)."""
    if not platform:
        return []
    return sorted({p.account for p in found if p.account is not None and p.account not in platform})

