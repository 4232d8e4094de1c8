"""Run the real Pulumi programs under Pulumi's own mock runtime: no CLI, no credentials, no network.

The offline plan, the policy gate and the tests all use this one harness. For each stack it:

1. validates the stack's config (a :class:`ConfigError` stops everything before any resource);
2. runs the program (``platform/`` or ``serving/``) with ``pulumi.runtime.set_mocks`` in its own
   ``contextvars.Context`` (the root stack, config and exports live in context variables);
3. records every registration (inputs as the engine passes them, camelCase; parent; provider;
   property dependencies; protect; the source line that declared it);
4. answers StackReferences with the outputs of the referenced stack, running that stack first.

Mocks return deterministic, realistic IDs and ARNs built from the stack's account and region. In
preview mode they return no computed values, so ARNs and IDs stay unknown, as in a first
``pulumi preview``; unknown inputs are recorded as :data:`UNKNOWN`.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import multiprocessing
import os
import re
import runpy
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks

from mlops_core.paths import REPO_ROOT
from mlops_platform import mock_arns
from mlops_core.config import (
    CONFIG_NAMESPACE,
    ConfigError,
    StackSettings,
    account_stack_of,
    list_stacks,
    load_organization,
    load_settings,
    project_stacks,
    read_stack_config,
)

#: The engine's marker for a value not known until the resource exists.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: The engine's signature key for special objects (secrets, resource references).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
SECRET_MASK = "[secret]"

PLATFORM_PROJECT = "mlops-platform"
PLATFORM_PROGRAM = "platform"
SERVING_PROJECT = "mlops-serving"
SERVING_PROGRAM = "serving"
#: Shown when no model package ARN is given to a serving plan (documentation account and version).
DOCUMENTATION_MODEL_PACKAGE = "arn:aws:sagemaker:{region}:{account}:model-package/{group}/1"


class PlanError(Exception):
    """The program failed under mocks; the message is one line.

    ``records`` holds whatever the program had registered before it failed (tests assert that a
    config error declares nothing).
    """

    def __init__(self, message: str, records: list | None = None) -> None:
        super().__init__(message)
        self.records = records or []


@dataclass
class ResourceRecord:
    """One registered resource, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    """URNs of ``depends_on`` (as the SDK sends them: a component's are not passed to its children)."""
    protect: bool = False
    retain_on_delete: bool = False
    source: tuple[str, int] | None = None
    """Repo-relative file and line that declared the resource."""
    aliases: list[dict[str, str | None]] = field(default_factory=list)
    """Its ``aliases`` option, as :func:`_alias_specs` reads it (what earlier programs, or state
    moves, called it)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "inputs": self.inputs,
        }


@dataclass
class StackPlan:
    """What one stack's program declared under mocks."""

    stack: str
    role: str
    project: str
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    account_id: str = ""
    region: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "resources": [r.to_json() for r in sorted(self.resources, key=lambda r: r.urn)],
            "outputs": self.outputs,
        }

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> ResourceRecord:
        for record in self.resources:
            if record.name == name:
                return record
        raise KeyError(f"{self.stack}: no resource named {name!r}")


# --------------------------------------------------------------------------------------------
# Mock outputs
# --------------------------------------------------------------------------------------------

# Inputs that carry a resource's physical name, per type (first match wins).
_NAME_INPUTS = ("bucket", "name", "roleName", "functionName", "repositoryName", "domainName", "userProfileName", "modelPackageGroupName", "pipelineName")


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def fake_state(type_token: str, name: str, inputs: Mapping[str, Any], account: str, region: str) -> tuple[str, dict]:
    """Deterministic ID and computed outputs for a resource (what AWS would have returned: IDs and
    ARNs in AWS's format per type, ``mlops_platform.mock_arns``)."""
    module = type_token.partition(":")[2].partition("/")[0]
    physical = next((str(inputs[k]) for k in _NAME_INPUTS if isinstance(inputs.get(k), str) and k in inputs), None)
    if physical is None:
        physical = f"{name}-{_digest(type_token, name, length=7)}"
    resource_id = mock_arns.mock_id(type_token, name, physical, account)
    computed: dict[str, Any] = {"id": resource_id}
    arn = mock_arns.mock_arn(type_token, physical, resource_id, inputs, account, region)
    if arn is not None:
        computed["arn"] = arn
    if type_token == "aws:kms/key:Key":
        computed["keyId"] = resource_id
    if type_token.startswith("aws:s3/bucket:"):
        computed["bucket"] = physical
    if module == "iam" or type_token in ("aws:cloudwatch/logGroup:LogGroup", "aws:sns/topic:Topic", "aws:sqs/queue:Queue"):
        computed["name"] = physical
    elif "name" in inputs or module in ("sagemaker", "lambda", "ecr", "codebuild", "codepipeline"):
        computed.setdefault("name", physical)
    if type_token == "aws:ec2/vpc:Vpc":
        computed["defaultSecurityGroupId"] = f"sg-{_digest(account, name, 'default')}"
    if type_token == "aws:ec2/subnet:Subnet":
        computed["availabilityZone"] = _az_name(region, str(inputs.get("availabilityZoneId", "")))
    if type_token == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
        computed["prefixListId"] = f"pl-{_digest(region, str(inputs.get('serviceName')), length=8)}"
    if type_token == "aws:sagemaker/domain:Domain":
        computed["url"] = f"https://{resource_id}.studio.{region}.sagemaker.aws"
    return resource_id, computed


def _az_name(region: str, az_id: str) -> str:
    """A plausible AZ name for an AZ ID (the real mapping differs per account)."""
    number = az_id.rpartition("-az")[2]
    return f"{region}{'abcdef'[int(number) - 1]}" if number.isdigit() and 1 <= int(number) <= 6 else f"{region}a"


class PlatformMocks(pulumi.runtime.Mocks):
    """Mocks for one stack: realistic outputs, StackReferences answered from earlier runs."""

    def __init__(self, account: str, region: str, preview: bool, stack_outputs: Mapping[str, dict]) -> None:
        self.account, self.region, self.preview = account, region, preview
        self.stack_outputs = stack_outputs
        self.missing_references: set[str] = set()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            reference = str(args.inputs.get("name", args.name))
            stack = reference.rsplit("/", 1)[-1]
            outputs = self.stack_outputs.get(stack)
            if outputs is None:
                self.missing_references.add(stack)
                outputs = {}
            return reference, {"name": reference, "outputs": outputs, "secretOutputNames": []}
        if args.typ.startswith("pulumi:providers:"):
            return ("" if self.preview else f"{args.name}-provider"), dict(args.inputs)
        if self.preview:
            # A first preview knows only the inputs: IDs and ARNs stay unknown.
            return "", dict(args.inputs)
        resource_id, computed = fake_state(args.typ, args.name, args.inputs, self.account, self.region)
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:aws:iam::{self.account}:role/deploy", "userId": "AROA", "id": self.account}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:ec2/getPrefixList:getPrefixList":
            name = str(args.args.get("name") or f"com.amazonaws.{self.region}.s3")
            prefix_list = f"pl-{_digest(self.region, name, length=8)}"
            return {"id": prefix_list, "prefixListId": prefix_list, "name": name, "cidrBlocks": []}
        if args.token == "aws:ec2/getSubnet:getSubnet":
            subnet = str(args.args.get("id") or "subnet-unknown")
            return {"id": subnet, "availabilityZone": f"{self.region}a", "availabilityZoneId": "", "vpcId": ""}
        return {}


def _plain(value: Any) -> Any:
    """Struct JSON -> plain values: secrets masked, resource references as their URN."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET_MASK
        if sig == _RESOURCE_REF_SIG:
            return value.get("urn")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps what the engine would know about each registration."""

    def __init__(self, mocks: PlatformMocks, root: Path) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []
        self.root = root

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = _plain(json_format.MessageToDict(request.object)) if request.object else {}
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=request.provider or None,
                inputs=inputs,
                # Sorted: the SDK gathers them concurrently, in an order that differs from run to run.
                property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
                dependencies=sorted(request.dependencies),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                source=self._source(request),
                aliases=_alias_specs(request),
            )
        )
        return response

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        """Reads (``StackReference``, ``Resource.get``) are part of the plan too, as non-custom reads."""
        response = super().ReadResource(request)
        inputs = _plain(json_format.MessageToDict(request.properties)) if request.properties else {}
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,  # StackReference is a CustomResource; the type tells reads apart
                parent=request.parent or None,
                provider=request.provider or None,
                inputs=inputs,
                source=self._source(request),
            )
        )
        return response

    def _source(self, request) -> tuple[str, int] | None:
        position = request.sourcePosition
        if not position or not position.uri:
            return None
        path = Path(position.uri.removeprefix("file://")).resolve()
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return None
        if relative.parts and relative.parts[0].startswith("."):  # a library in .venv, not our code
            return None
        return str(relative), int(position.line)


# --------------------------------------------------------------------------------------------
# Running programs
# --------------------------------------------------------------------------------------------


def _alias_specs(request: Any) -> list[dict[str, str | None]]:
    """A registration's aliases as given: ``name`` and ``type`` (None: the resource's own), ``parent``
    (a URN; ``""``: the stack's root; None: the resource's own parent), or a whole ``urn``."""
    specs = []
    for alias in request.aliases:
        if alias.urn:
            specs.append({"urn": alias.urn})
            continue
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or None)
        specs.append({"name": spec.name or None, "type": spec.type or None, "parent": parent})
    return specs


def config_for_engine(config: Mapping[str, Any]) -> dict[str, str]:
    """Stack-file config as the CLI passes it to a program: strings, structured values as JSON."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def _run_program_isolated(
    program: Path,
    project: str,
    stack: str,
    config: dict[str, str],
    mocks: PlatformMocks,
    monitor: RecordingMonitor,
    preview: bool,
) -> dict[str, Any]:
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    outputs: dict[str, Any] = {}

    def program_run():
        runpy.run_path(str(program), run_name="__main__")
        stack_resource = pulumi.runtime.get_root_resource()
        exported = dict(getattr(stack_resource, "outputs", {}) or {})

        async def collect() -> None:
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                if await output.is_secret():
                    outputs[key] = SECRET_MASK
                elif not await output.is_known():
                    outputs[key] = UNKNOWN
                else:
                    outputs[key] = await output.future()

        return pulumi.Output.from_input(collect())

    pulumi.runtime.test(program_run)()
    return json.loads(json.dumps(outputs, default=str))


def run_program(
    program: Path,
    project: str,
    stack: str,
    config: Mapping[str, Any],
    account: str,
    region: str,
    *,
    preview: bool = False,
    stack_outputs: Mapping[str, dict] | None = None,
    root: Path = REPO_ROOT,
) -> tuple[list[ResourceRecord], dict[str, Any], set[str]]:
    """Run one program under mocks in a fresh context; returns records, outputs, missing references."""
    mocks = PlatformMocks(account, region, preview, stack_outputs or {})
    monitor = RecordingMonitor(mocks, root)
    try:
        outputs = contextvars.Context().run(
            _run_program_isolated, program, project, stack, config_for_engine(config), mocks, monitor, preview
        )
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the plan reports any program failure in one line
        if mocks.missing_references - set(stack_outputs or {}):
            # A discovery run: the program read a stack not planned yet (its outputs empty) and may
            # fail on that; the caller plans the referenced stacks and runs it again.
            return monitor.records, {}, mocks.missing_references
        if isinstance(exc, pulumi.RunError):
            raise PlanError(str(exc), monitor.records) from None
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlanError(f"{stack}: program failed: {type(exc).__name__}: {message}", monitor.records) from exc
    return monitor.records, outputs, mocks.missing_references


@dataclass
class DeclarationPlan:
    """What one callable declared under mocks (see :func:`plan_declaration`)."""

    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    """The resolved values of what the callable returned (a mapping of outputs, or ``{}``)."""

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> ResourceRecord:
        for record in self.resources:
            if record.name == name:
                return record
        raise KeyError(f"no resource named {name!r} (declared: {sorted(r.name for r in self.resources)})")


def plan_declaration(
    declare: Callable[[], Mapping[str, Any] | None],
    *,
    account: str = "111111111111",
    region: str = "eu-central-1",
    preview: bool = False,
    stack: str = "components",
    project: str = "mlops-components",
    root: Path = REPO_ROOT,
) -> DeclarationPlan:
    """Run ``declare`` (e.g. one component with chosen Args) under the same mocks as the programs.

    Component tests use it for branches the committed config never takes (three AZs, another region,
    optional parts off). ``declare`` may return a mapping of outputs to resolve (known, or
    :data:`UNKNOWN` in preview mode).
    """
    if not callable(declare):
        raise PlanError(f"plan_declaration: declare must be a function that declares resources, not {type(declare).__name__}")
    mocks = PlatformMocks(account, region, preview, {})
    monitor = RecordingMonitor(mocks, root)
    resolved: dict[str, Any] = {}

    def run() -> None:
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)

        def program():
            returned = declare()
            if returned is not None and not isinstance(returned, Mapping):
                raise PlanError(
                    f"plan_declaration: declare returned {type(returned).__name__}; return None or a mapping of outputs",
                    monitor.records,
                )
            returned = dict(returned or {})

            async def collect() -> None:
                for key, value in returned.items():
                    output = pulumi.Output.from_input(value)
                    resolved[key] = await output.future() if await output.is_known() else UNKNOWN

            return pulumi.Output.from_input(collect())

        pulumi.runtime.test(program)()

    contextvars.Context().run(run)
    return DeclarationPlan(monitor.records, json.loads(json.dumps(resolved, default=str)))


def _run_with_references(
    program: Path,
    project: str,
    stack: str,
    config: Mapping[str, Any],
    account: str,
    region: str,
    preview: bool,
    root: Path,
    upstream: dict[str, dict],
    chain: tuple[str, ...],
) -> tuple[list[ResourceRecord], dict[str, Any]]:
    """Run a program; when it references stacks not planned yet, plan those (known outputs) and rerun."""
    while True:
        records, outputs, missing = run_program(
            program, project, stack, config, account, region, preview=preview, stack_outputs=upstream, root=root
        )
        missing -= set(upstream)
        if not missing:
            return records, outputs
        for name in sorted(missing):
            upstream[name] = plan_stack(name, preview=False, root=root, _chain=chain).outputs


_CACHE: dict[tuple, StackPlan] = {}
_FINGERPRINTS: dict[tuple, str] = {}


def _disk_entry(root: Path, *parts: Any) -> tuple[Path | None, str]:
    """The ``.plan-cache`` directory and entry key of one plan (directory None: caching off)."""
    from mlops_platform import plan_cache

    directory = plan_cache.cache_dir(root)
    if directory is None:
        return None, ""
    marker = (str(root), _fingerprint(root))
    if marker not in _FINGERPRINTS:
        _FINGERPRINTS[marker] = plan_cache.inputs_fingerprint(root)
    return directory, plan_cache.entry_key(_FINGERPRINTS[marker], *parts)


def _cached_or_planned(root: Path, parts: tuple, plan: Callable[[], StackPlan]) -> StackPlan:
    """``plan()``, or the ``.plan-cache`` entry of the same inputs (its warnings logged again)."""
    from mlops_platform import plan_cache

    directory, key = _disk_entry(root, *parts)
    hit = plan_cache.load(directory, key)
    if hit is not None:
        plan_cache.replay(hit[1])
        return hit[0]
    with plan_cache.WarningRecorder() as warnings:
        planned = plan()
    plan_cache.store(directory, key, planned, warnings.messages)
    return planned


def plan_stack(
    stack: str, *, preview: bool = False, root: Path = REPO_ROOT, disk_cache: bool = False, _chain: tuple[str, ...] = ()
) -> StackPlan:
    """Plan one platform stack, first planning any stack it references.

    ``disk_cache``: reuse (and keep) the plan in ``.plan-cache/plans/`` keyed by every input
    (:mod:`mlops_platform.plan_cache`); the CLI sets it, tests that patch code in memory do not.
    """
    key = (str(root), stack, preview, _fingerprint(root))
    if key in _CACHE:
        return _CACHE[key]
    if stack in _chain:
        raise PlanError(f"stack references form a cycle: {' -> '.join([*_chain, stack])}")
    settings: StackSettings = load_settings(stack, root)

    def fresh() -> StackPlan:
        # A project stack (exp.<project>) reads its account stack: plan that first, so one run does.
        upstream = {}
        account_stack = account_stack_of(stack)
        if settings.model_project is not None and account_stack is not None:
            upstream[account_stack] = plan_stack(account_stack, root=root, disk_cache=disk_cache, _chain=(*_chain, stack)).outputs
        records, outputs = _run_with_references(
            root / PLATFORM_PROGRAM, PLATFORM_PROJECT, stack, read_stack_config(stack, root),
            settings.account_id, settings.org.region, preview, root, upstream, (*_chain, stack),
        )
        return StackPlan(stack, settings.role, PLATFORM_PROJECT, records, outputs, settings.account_id, settings.org.region)

    plan = _cached_or_planned(root, ("platform", stack, preview), fresh) if disk_cache else fresh()
    _CACHE[key] = plan
    return plan


def account_plan(account_stack: str, *, preview: bool = False, root: Path = REPO_ROOT) -> StackPlan:
    """An account's resources as one plan: the account stack's and its model projects' stacks'
    (``exp`` and every ``exp.<project>``). Outputs: the account stack's, and under ``projectStacks``
    each project's stack's by project. For checks that ask what the account holds, wherever declared."""
    names = [account_stack, *(name for name in project_stacks(root) if account_stack_of(name) == account_stack)]
    plans = plan_many([(name, preview) for name in names], root=root)
    first = plans[(account_stack, preview)]
    resources = [record for name in names for record in plans[(name, preview)].resources]
    outputs = {**first.outputs, "projectStacks": {
        plans[(name, preview)].outputs.get("modelProject", name): plans[(name, preview)].outputs for name in names[1:]
    }}
    return StackPlan(account_stack, first.role, first.project, resources, outputs, first.account_id, first.region)


def _plan_in_worker(stack: str, preview: bool, root: Path, upstream: tuple[StackPlan, ...] = ()) -> tuple[StackPlan, list[str]]:
    """One plan in a pool worker: the plan and the warnings its program logged. ``upstream``: plans
    of the stacks it reads, made already (a project stack's account stack), kept from planning twice."""
    from mlops_platform import plan_cache

    for plan in upstream:
        _CACHE[(str(root), plan.stack, False, _fingerprint(root))] = plan

    with plan_cache.WarningRecorder() as warnings:
        try:
            plan = plan_stack(stack, preview=preview, root=root)
        except ConfigError as exc:
            # ConfigError does not survive pickling back to the parent; PlanError carries the same lines.
            raise PlanError(str(exc)) from None
        except PlanError as exc:
            raise PlanError(str(exc)) from None  # without the records: one line is what the parent shows
    return plan, warnings.messages


def _workers() -> int:
    """Processes to plan in: one per core this process may use, at most 2 (the development machine's)."""
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(2, os.cpu_count() or 1))


def plan_many(
    requests: list[tuple[str, bool]], *, root: Path = REPO_ROOT, disk_cache: bool = False, parallel: bool = False
) -> dict[tuple[str, bool], StackPlan]:
    """Plan platform stacks, each ``(stack, preview)`` once: cached ones from memory or ``.plan-cache``,
    the rest in a pool of worker processes when ``parallel``: first the account stacks (they reference
    no other platform stack), then the model projects' stacks with their account stack's plan."""
    from mlops_platform import plan_cache

    requests = list(dict.fromkeys(requests))
    for name in dict.fromkeys(stack for stack, _ in requests):
        load_settings(name, root)
    # A project stack needs its account stack's plan with known outputs, requested or not.
    needed = [(account, False) for stack, _ in requests if (account := account_stack_of(stack)) is not None]
    plans: dict[tuple[str, bool], StackPlan] = {}
    missing: list[tuple[str, bool]] = []
    for stack, preview in dict.fromkeys([*requests, *needed]):
        memory = _CACHE.get((str(root), stack, preview, _fingerprint(root)))
        directory, key = _disk_entry(root, "platform", stack, preview) if disk_cache else (None, "")
        hit = None if memory is not None else plan_cache.load(directory, key)
        if memory is not None or hit is not None:
            if hit is not None:
                plan_cache.replay(hit[1])
                _CACHE[(str(root), stack, preview, _fingerprint(root))] = hit[0]
            plans[(stack, preview)] = memory or hit[0]
        else:
            missing.append((stack, preview))
    # Project stacks (exp.<project>) read their account stack: plan them in a second round.
    first = [request for request in missing if account_stack_of(request[0]) is None]
    second = [request for request in missing if account_stack_of(request[0]) is not None]
    for round_requests in (first, second):
        _plan_round(round_requests, plans, root, disk_cache, parallel)
    return {request: plans[request] for request in requests}


def _plan_round(
    missing: list[tuple[str, bool]], plans: dict[tuple[str, bool], StackPlan], root: Path, disk_cache: bool, parallel: bool
) -> None:
    """Plan ``missing`` into ``plans`` (and the caches), in worker processes when ``parallel``."""
    from mlops_platform import plan_cache

    workers = min(_workers(), len(missing)) if parallel else 1
    if workers > 1:
        # fork when this process has one thread: the workers start with its imports (a spawned one
        # imports for seconds). With more threads (a test run, a program run before) a fork may copy a
        # lock some thread holds and hang: spawn then.
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {request: pool.submit(_plan_in_worker, *request, root, _upstream_plans(request[0], plans))
                       for request in missing}
            for (stack, preview), future in futures.items():
                plan, warnings = future.result()
                plan_cache.replay(warnings)
                _CACHE[(str(root), stack, preview, _fingerprint(root))] = plan
                if disk_cache:
                    plan_cache.store(*_disk_entry(root, "platform", stack, preview), plan, warnings)
                plans[(stack, preview)] = plan
    else:
        for stack, preview in missing:
            plans[(stack, preview)] = plan_stack(stack, preview=preview, root=root, disk_cache=disk_cache)


def _upstream_plans(stack: str, plans: dict[tuple[str, bool], StackPlan]) -> tuple[StackPlan, ...]:
    account_stack = account_stack_of(stack)
    upstream = plans.get((account_stack, False)) if account_stack is not None else None
    return (upstream,) if upstream is not None else ()


def plan_stacks(
    names: list[str] | None = None,
    *,
    preview: bool = False,
    root: Path = REPO_ROOT,
    disk_cache: bool = False,
    parallel: bool = False,
) -> dict[str, StackPlan]:
    """Plan the named platform stacks (default: every ``Pulumi.<name>.yaml`` at the root).

    Every stack's config is validated before any program runs, so one bad file declares nothing.
    ``disk_cache`` and ``parallel``: see :func:`plan_stack` and :func:`plan_many`.
    """
    names = list(names) if names else default_stacks(root)
    plans = plan_many([(name, preview) for name in names], root=root, disk_cache=disk_cache, parallel=parallel)
    return {name: plans[(name, preview)] for name in names}


def serving_stack_config(name: str, model_package_arn: str | None, root: Path = REPO_ROOT) -> tuple[dict[str, Any], str, str]:
    """Config of a serving stack ``<project>-<stage>`` as the deployer sets it; (config, stage, account)."""
    from mlops_core.config import STAGES

    project, _, stage = name.rpartition("-")
    if stage not in STAGES or not project:
        raise ConfigError("--serving", name, "must be <project>-<stage> with stage dev, int or prod")
    org = load_organization(root)
    if project not in {p.name for p in org.model_projects}:
        known = ", ".join(p.name for p in org.model_projects) or "none"
        raise ConfigError("--serving", name, f"unknown model project {project!r} (projects: {known})")
    if model_package_arn is None:
        model_package_arn = DOCUMENTATION_MODEL_PACKAGE.format(region=org.region, account=org.accounts.exp, group=project)
    elif not re.fullmatch(r"arn:aws:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]+/\d+", model_package_arn):
        raise ConfigError("--model-package-arn", model_package_arn, "is not a versioned model package ARN")
    config = {
        "serving:project": project,
        "serving:stage": stage,
        "serving:platformStack": stage,
        "serving:modelPackageArn": model_package_arn,
    }
    return config, stage, org.accounts.by_role()[stage]


def plan_serving(
    name: str, model_package_arn: str | None = None, *, preview: bool = False, root: Path = REPO_ROOT,
    disk_cache: bool = False,
) -> StackPlan:
    """Plan a serving stack ``<project>-<stage>`` of the ``serving/`` project, after its platform stack."""
    config, stage, account = serving_stack_config(name, model_package_arn, root)
    org = load_organization(root)

    def fresh() -> StackPlan:
        # The stage's platform stack is always upstream: plan it first so the first run sees its outputs.
        upstream = {stage: plan_stack(stage, root=root, disk_cache=disk_cache).outputs}
        records, outputs = _run_with_references(
            root / SERVING_PROGRAM, SERVING_PROJECT, name, config, account, org.region, preview, root, upstream, (name,)
        )
        return StackPlan(name, stage, SERVING_PROJECT, records, outputs, account, org.region)

    if not disk_cache:
        return fresh()
    return _cached_or_planned(root, ("serving", name, config["serving:modelPackageArn"], preview), fresh)


def default_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Every stack file at the root, except the optional stacks the organisation does not use
    (DATA without a data account, ``identity`` without Identity Center, ``log-archive`` without
    ``accounts.logArchive``), and after each EXP stack its model projects' stacks (``exp.<project>``,
    which have no file)."""
    org = load_organization(root)
    projects = project_stacks(root)
    names = []
    for name in list_stacks(root):
        role = read_stack_config(name, root).get(f"{CONFIG_NAMESPACE}:role")
        if role == "data" and not org.has_data_account:
            continue  # the DATA account is optional; its stack file may stay in the repo
        if role == "identity" and org.identity.mode != "identity-center":
            continue  # only Identity Center sign-in needs the identity stack
        if role == "log-archive" and not org.has_log_archive:
            continue  # the log-archive account is optional; without it each account keeps its audit bucket
        names.append(name)
        # Each model project's stack right after its EXP stack (it reads that stack's outputs).
        names += [project for project in projects if account_stack_of(project) == name]
    return names


def _fingerprint(root: Path) -> tuple:
    """Cache key part: the config files' modification times (tests write configs to temp roots)."""
    files = sorted(root.glob("Pulumi.*.yaml")) + [root / "organization.yaml"]
    return tuple((f.name, f.stat().st_mtime_ns) for f in files if f.exists())
