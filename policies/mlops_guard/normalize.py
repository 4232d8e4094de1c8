"""Reading resource inputs safely: unknown values, nested paths and IAM policy documents.

Resource inputs reach the rules as plain dicts with camelCase keys. During a preview, values that
depend on other resources' outputs are the engine's sentinel strings (``pulumi_policy.proxy``);
a secret the reader could not open is the blinded string ``[secret]``. Rules never compare those
sentinels with real values: a presence check counts them as present, a value check reports them
as "not evaluated".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fnmatch import fnmatchcase
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pulumi_policy import proxy as _proxy

UNKNOWN = _proxy.UNKNOWN_STRING_VALUE
"""The string `pulumi preview --json` and the policy engine use for a value not known yet."""

UNKNOWN_SENTINELS = frozenset(
    {
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    }
)
SECRET_BLINDED = "[secret]"
"""How Pulumi prints a secret it will not reveal."""

SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""Key that marks a secret value object in the engine's JSON."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""Returned by :func:`lookup` when a key does not exist (distinct from an explicit ``None``)."""


def is_unknown(value: Any) -> bool:
    """True for a value that will only be known after apply (or a secret we cannot read)."""
    return isinstance(value, str) and (value in UNKNOWN_SENTINELS or value == SECRET_BLINDED)


def contains_unknown(value: Any) -> bool:
    """True if the value or anything nested in it is unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def unwrap(value: Any) -> Any:
    """Turn the policy server's unknown-checking proxies back into plain dicts and lists.

    The server wraps props so that touching an unknown raises; our rules handle unknowns
    themselves, so they read the raw values (``proxy["__target"]`` gives the wrapped container).
    """
    if isinstance(value, _proxy._DictProxy):  # noqa: SLF001 - documented escape hatch of the proxy
        value = value["__target"]
    elif isinstance(value, _proxy._ListProxy):  # noqa: SLF001
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(v) for v in value]
    return value


def open_secrets(value: Any) -> Any:
    """Replace engine secret objects by their plaintext when present, else by ``[secret]``."""
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            if "value" in value:
                return open_secrets(value["value"])
            if "plaintext" in value and isinstance(value["plaintext"], str):
                try:
                    return open_secrets(json.loads(value["plaintext"]))
                except ValueError:
                    return value["plaintext"]
            return SECRET_BLINDED
        return {k: open_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [open_secrets(v) for v in value]
    return value


def lookup(obj: Any, path: str) -> Any:
    """Value at a dotted path (``"a.b.0.c"``); ``MISSING`` if absent; an unknown container yields it."""
    current = obj
    for part in path.split("."):
        if is_unknown(current):
            return current
        if isinstance(current, Mapping):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, list) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def is_present(value: Any) -> bool:
    """Presence check: set and non-empty. A value known only later counts as present."""
    if is_unknown(value):
        return True
    return value is not MISSING and value is not None and value != "" and value != [] and value != {}


def as_list(value: Any) -> list[Any]:
    """A list for a value that may be one item, a list, missing or None."""
    if value is MISSING or value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def as_bool(value: Any) -> bool | None:
    """``True``/``False`` for booleans and their string forms (provider inputs), else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def parse_json_value(value: Any) -> Any:
    """A JSON string decoded, other values unchanged; a malformed string stays a string."""
    if isinstance(value, str) and not is_unknown(value):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


# --- IAM documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One IAM statement with every list-or-string field normalised to a list."""

    effect: str
    actions: tuple[str, ...] = ()
    """Lower-cased ``Action`` entries."""
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``{"AWS": (...), "Service": (...), "Federated": (...), "*": ("*",)}``."""
    has_not_principal: bool = False
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def allows(self) -> bool:
        return self.effect == "allow"

    def condition_keys(self) -> set[str]:
        """Lower-cased condition keys used in any operator."""
        keys: set[str] = set()
        for block in self.condition.values():
            if isinstance(block, Mapping):
                keys.update(k.lower() for k in block)
        return keys

    def condition_values(self, key: str) -> list[Any]:
        """Every value bound to ``key`` (case-insensitive) under any operator."""
        found: list[Any] = []
        for block in self.condition.values():
            if isinstance(block, Mapping):
                for k, v in block.items():
                    if k.lower() == key.lower():
                        found.extend(as_list(v))
        return found

    @property
    def principal_is_public(self) -> bool:
        """``"Principal": "*"`` or ``{"AWS": "*"}``."""
        return "*" in self.principals.get("*", ()) or "*" in self.principals.get("AWS", ())


@dataclass(frozen=True)
class PolicyDocumentView:
    """A parsed IAM document; ``statements`` is empty when the document is unknown or malformed."""

    statements: tuple[Statement, ...]
    unknown: bool = False
    malformed: str | None = None
    raw: Mapping[str, Any] | None = None


def _normalise_principal(value: Any) -> dict[str, tuple[str, ...]]:
    """``"*"`` -> ``{"*": ("*",)}``; a string -> ``{"AWS": (it,)}``; a mapping's values -> tuples."""
    if isinstance(value, str):
        return {"*": ("*",)} if value == "*" else {"AWS": (value,)}
    if isinstance(value, Mapping):
        return {str(k): tuple(str(v) for v in as_list(vals)) for k, vals in value.items()}
    return {}


def _statement(raw: Mapping[str, Any]) -> Statement:
    principals = _normalise_principal(raw.get("Principal"))
    condition = raw.get("Condition") or {}
    return Statement(
        effect=str(raw.get("Effect", "")).lower(),
        actions=tuple(str(a).lower() for a in as_list(raw.get("Action"))),
        not_actions=tuple(str(a).lower() for a in as_list(raw.get("NotAction"))),
        resources=tuple(str(r) for r in as_list(raw.get("Resource"))),
        not_resources=tuple(str(r) for r in as_list(raw.get("NotResource"))),
        principals=principals,
        has_not_principal="NotPrincipal" in raw,
        condition=condition if isinstance(condition, Mapping) else {},
        raw=raw,
    )


@lru_cache(maxsize=4096)
def _parse_json_document(text: str) -> PolicyDocumentView:
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        return PolicyDocumentView((), malformed=f"not valid JSON ({exc.msg})")
    return _parse_document(parsed)


def _parse_document(doc: Any) -> PolicyDocumentView:
    if not isinstance(doc, Mapping):
        return PolicyDocumentView((), malformed="not a JSON object")
    raw_statements = doc.get("Statement", [])
    if is_unknown(raw_statements):
        return PolicyDocumentView((), unknown=True, raw=doc)
    statements = []
    for raw in as_list(raw_statements):
        if is_unknown(raw):
            return PolicyDocumentView(tuple(statements), unknown=True, raw=doc)
        if not isinstance(raw, Mapping):
            return PolicyDocumentView((), malformed="a statement is not an object", raw=doc)
        statements.append(_statement(raw))
    return PolicyDocumentView(tuple(statements), raw=doc)


def parse_policy_document(value: Any) -> PolicyDocumentView | None:
    """Normalise an IAM document given as a dict or a JSON string; ``None`` when absent."""
    if value is MISSING or value is None or value == "":
        return None
    if is_unknown(value):
        return PolicyDocumentView((), unknown=True)
    if isinstance(value, str):
        return _parse_json_document(value)
    return _parse_document(value)


def action_matches(pattern: str, action: str) -> bool:
    """IAM wildcard match (``*`` and ``?``), case-insensitive."""
    return fnmatchcase(action.lower(), pattern.lower())


def canonical_json(value: Any) -> str:
    """Stable JSON text for caching and fingerprints."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
