"""The journeys file (``journeys.yaml`` beside this module): the golden path and the isolation promises.

One reviewed data file, not code. Each entry is one step of a journey: who (a role, a persona's
sign-in role with the user's session tag, a sign-in identity, a service, or a principal outside the
organisation), which action on which resource, with which request context, through which VPC
endpoint, and the expected decision (``Allowed`` or ``Denied``).

Resources and context values name planned resources by reference, resolved against the access model:

* ``{account:<stack>}``, ``{region}``, ``{platform}``;
* ``{arn:<stack>:<Pulumi name>}``, ``{id:<stack>:<Pulumi name>}``: the ARN or ID of a planned resource;
* ``{input:<stack>:<Pulumi name>:<input>}``: one input of a planned resource (e.g. a bucket's name);
* ``{role:<stack>:<role name>}``: the ARN of a planned role (with its path).

A reference to something the plan does not hold is an error, so a renamed resource cannot turn an
entry into a check of nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_platform.access.model import AccessModel, ModelError

JOURNEYS_FILE = Path(__file__).with_name("journeys.yaml")
EXPECTATIONS = ("Allowed", "Denied")
PRINCIPAL_KINDS = ("role", "persona", "sign_in", "service", "external")
_STEP_KEYS = {"step", "principal", "action", "resource", "context", "session_tags", "via", "expected", "beyond_iam", "lake_formation", "why", "aws_owned_resource_policy"}
_REFERENCE = re.compile(r"\{(account|region|platform|arn|id|input|role)(?::([^{}]+))?\}")


class JourneyError(Exception):
    """The journeys file is malformed or names something the plan does not hold (one line)."""


@dataclass(frozen=True)
class Step:
    """One entry of the journeys file, as written (references unresolved)."""

    journey: str
    step: str
    principal: dict[str, str]
    action: str
    resource: str
    expected: str
    context: dict[str, Any] = field(default_factory=dict)
    session_tags: dict[str, str] = field(default_factory=dict)
    via: str | None = None
    """``<stack>:<Pulumi name>`` of the VPC endpoint the call goes through."""
    beyond_iam: str | None = None
    """What IAM evaluation cannot decide for this step (KMS grant use, Lake Formation...)."""
    lake_formation: dict[str, Any] | None = None
    """A Lake Formation grant the plan must hold for the step: principal, permissions, table/database."""
    why: str | None = None
    aws_owned_resource_policy: dict[str, Any] | None = None
    """For a resource AWS owns (an AWS image repository): the policy AWS documents for it, stated here
    because no plan can hold it; the report says so."""

    @property
    def label(self) -> str:
        return f"{self.journey} / {self.step}"

    @property
    def checked_another_way(self) -> list[str]:
        """What decides this step besides the IAM engine, and how it is checked (empty: IAM alone)."""
        ways = []
        if self.lake_formation is not None:
            ways.append("Lake Formation: the plan's grant")
        if self.action == "servicecatalog:ProvisionProduct":
            ways.append("Service Catalog: the plan's portfolio principal association")
        if self.aws_owned_resource_policy is not None:
            ways.append("AWS-owned resource: its documented policy, stated in the file")
        if self.beyond_iam:
            ways.append(f"beyond IAM: {self.beyond_iam}")
        return ways


@dataclass(frozen=True)
class JourneyFile:
    steps: list[Step]
    product_parameters: dict[str, dict[str, str]]
    platform: str


def load(path: Path = JOURNEYS_FILE) -> JourneyFile:
    """Parse and validate the journeys file (shape only; references resolve later)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise JourneyError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise JourneyError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("journeys"), list):
        raise JourneyError(f"{path}: needs a 'journeys' list")
    steps: list[Step] = []
    seen: set[str] = set()
    for journey in data["journeys"]:
        name = journey.get("journey") if isinstance(journey, dict) else None
        if not name or not isinstance(journey.get("steps"), list) or not journey["steps"]:
            raise JourneyError(f"{path}: every journey needs a 'journey' name and a non-empty 'steps' list")
        for raw in journey["steps"]:
            step = _step(path, str(name), raw)
            if step.label in seen:
                raise JourneyError(f"{path}: step {step.label!r} appears twice")
            seen.add(step.label)
            steps.append(step)
    parameters = data.get("product_parameters") or {}
    return JourneyFile(steps, {str(k): {str(a): str(b) for a, b in v.items()} for k, v in parameters.items()}, str(data.get("platform", "")))


def _step(path: Path, journey: str, raw: Any) -> Step:
    where = f"{path.name}: journey {journey!r}"
    if not isinstance(raw, dict) or not raw.get("step"):
        raise JourneyError(f"{where}: every step needs a 'step' name")
    where = f"{where}, step {raw['step']!r}"
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise JourneyError(f"{where}: unknown key {unknown[0]!r}")
    for key in ("principal", "action", "resource", "expected"):
        if not raw.get(key):
            raise JourneyError(f"{where}: missing {key!r}")
    if raw["expected"] not in EXPECTATIONS:
        raise JourneyError(f"{where}: expected must be Allowed or Denied (got {raw['expected']!r})")
    principal = raw["principal"]
    kinds = [k for k in PRINCIPAL_KINDS if isinstance(principal, dict) and k in principal]
    if len(kinds) != 1:
        raise JourneyError(f"{where}: principal needs exactly one of {', '.join(PRINCIPAL_KINDS)}")
    if kinds[0] in ("persona", "sign_in") and not (principal.get("stack") and principal.get("user")):
        raise JourneyError(f"{where}: a {kinds[0]} principal needs 'stack' and 'user'")
    if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", str(raw["action"])):
        raise JourneyError(f"{where}: action {raw['action']!r} is not service:Action")
    return Step(
        journey=journey,
        step=str(raw["step"]),
        principal={str(k): str(v) for k, v in principal.items()},
        action=str(raw["action"]),
        resource=str(raw["resource"]),
        expected=str(raw["expected"]),
        context=dict(raw.get("context") or {}),
        session_tags={str(k): str(v) for k, v in (raw.get("session_tags") or {}).items()},
        via=raw.get("via"),
        beyond_iam=raw.get("beyond_iam"),
        lake_formation=raw.get("lake_formation"),
        why=raw.get("why"),
        aws_owned_resource_policy=raw.get("aws_owned_resource_policy"),
    )


# ---- README -----------------------------------------------------------------------------------------

README_START = "<!-- access-journeys:start -->"
README_END = "<!-- access-journeys:end -->"


def readme_block(steps: list[Step]) -> str:
    """The README's count of steps per journey, and the steps IAM evaluation alone does not decide."""
    journeys: dict[str, list[Step]] = {}
    for step in steps:
        journeys.setdefault(step.journey, []).append(step)
    lines = ["| Journey | Steps | Also checked another way |", "|---|---|---|"]
    lines += [f"| {name} | {len(items)} | {sum(bool(s.checked_another_way) for s in items)} |" for name, items in journeys.items()]
    lines += ["", "Steps the IAM engine cannot decide alone, and how each is checked:", ""]
    lines += [f"- {step.label}: {'; '.join(step.checked_another_way)}" for step in steps if step.checked_another_way]
    return "\n".join(lines)


def write_readme(readme: Path, steps: list[Step]) -> None:
    """Rewrite the README's block between the markers."""
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    readme.write_text(f"{head}{README_START}\n{readme_block(steps)}\n{README_END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # python -m mlops_platform.access.journeys: rewrite the README's journey table
    from mlops_core.paths import REPO_ROOT

    write_readme(REPO_ROOT / "README.md", load().steps)


# ---- references --------------------------------------------------------------------------------------


def resolve(value: Any, model: AccessModel, platform: str, region: str) -> Any:
    """Replace every reference in ``value`` (strings, lists, mappings) with what the plan holds."""
    if isinstance(value, list):
        return [resolve(v, model, platform, region) for v in value]
    if isinstance(value, dict):
        return {resolve(k, model, platform, region): resolve(v, model, platform, region) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    return _REFERENCE.sub(lambda m: _reference(m.group(1), m.group(2), model, platform, region), value)


def _reference(kind: str, argument: str | None, model: AccessModel, platform: str, region: str) -> str:
    if kind == "region":
        return region
    if kind == "platform":
        return platform
    if argument is None:
        raise JourneyError(f"reference {{{kind}}} needs an argument")
    if kind == "account":
        if argument not in model.accounts:
            raise JourneyError(f"{{account:{argument}}}: no planned stack {argument!r}")
        return model.accounts[argument]
    if kind == "role":
        stack, _, name = argument.partition(":")
        try:
            return model.role_named(stack, name).arn
        except ModelError as exc:
            raise JourneyError(str(exc)) from None
    stack, _, rest = argument.partition(":")
    name, _, key = rest.partition(":")
    record = model.records.get((stack, name))
    if record is None:
        raise JourneyError(f"{{{kind}:{argument}}}: stack {stack!r} plans no resource named {name!r}")
    if kind == "arn":
        return record.arn
    if kind == "id":
        return record.id
    if key not in record.inputs:
        raise JourneyError(f"{{input:{argument}}}: {name} has no input {key!r}")
    return str(record.inputs[key])
