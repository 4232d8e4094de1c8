"""The one static stack graph: which stack must be deployed before which.

    data -> exp -> res -> dev -> int -> prod
             |             |      |      |
             exp.<project>  (one per model project; each reads exp, nothing reads it)
                           |      |      |
                     <p>-dev -> <p>-int -> <p>-prod      (serving stacks, project ``mlops-serving`` in ``serving/``)
    identity                                             (optional, Identity Center; needs nothing, needed by nothing)
    log-archive -> every account stack                   (optional, accounts.logArchive; needs nothing)

Edges are of two kinds, and both order a deploy the same way:

- *reference* edges: a stack reads the outputs of another through a ``StackReference`` (exp reads data,
  res reads exp, every stage reads res, a serving stack reads its stage's platform stack);
- *promotion* edges: INT deploys only after DEV succeeded, PROD only after INT (the "stage before").

The graph is over stack *names*, derived from each stack's role, so a second stack with the same role
(``Pulumi.prod-eu.yaml`` with ``mlops:role: prod``) sits in the same wave as ``prod`` and the two run
in parallel. DATA is optional: when the organisation has no data account, exp has no upstream stack.
The optional identity stack runs in the first wave, beside data. A model project's stack
(``exp.<project>``, role exp) follows its EXP stack and runs beside res: changing one project
changes only its stack. The optional log-archive stack runs first of all: every account stack's
CloudTrail and AWS Config deliver to its bucket and key, whose policies must admit them first
(CreateTrail and PutDeliveryChannel check the bucket policy).
Everything here is pure logic, tested without Pulumi.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlops_core.config import account_stack_of
from mlops_core.roles import STACK_ROLES, STAGES

#: Platform stack roles in deploy order. ``identity`` (IAM Identity Center permission sets, in the
#: management account) is optional like ``data`` and independent of the account stacks.
PLATFORM_ROLES: tuple[str, ...] = STACK_ROLES
#: The Pulumi project of the platform stacks and of the serving stacks.
PLATFORM_PROJECT = "mlops-platform"
SERVING_PROJECT = "mlops-serving"
#: Directory of the serving project (its own ``Pulumi.yaml``), relative to the repository root.
SERVING_DIR = "serving"

#: Role -> the roles whose stacks must be deployed first (reference and promotion edges).
ROLE_UPSTREAM: Mapping[str, tuple[str, ...]] = {
    "identity": (),
    "log-archive": (),
    "data": ("log-archive",),  # the archive's policies admit the account's trail and AWS Config
    "exp": ("data", "log-archive"),
    "res": ("exp", "log-archive"),
    "dev": ("res", "log-archive"),
    "int": ("dev", "log-archive"),  # promotion: the stage before
    "prod": ("int", "log-archive"),  # promotion: the stage before
}


class GraphError(ValueError):
    """The stack graph cannot be ordered (unknown stack or role, or a cycle)."""


class GraphCycleError(GraphError):
    """The graph has a cycle; ``cycle`` lists it with the first stack repeated at the end."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(f"stack graph has a cycle: {' -> '.join(cycle)}")


@dataclass(frozen=True)
class StackNode:
    """One stack in the deploy graph."""

    name: str
    """Stack name as in ``Pulumi.<name>.yaml`` (platform) or ``<project>-<stage>`` (serving)."""
    role: str
    """Platform role (``data`` ... ``prod``); for a serving stack, its stage."""
    project: str
    """Pulumi project: ``PLATFORM_PROJECT`` or ``SERVING_PROJECT``."""
    upstream: tuple[str, ...]
    """Stacks that must be deployed (and, in the same run, succeed) before this one."""

    @property
    def is_serving(self) -> bool:
        return self.project == SERVING_PROJECT


def serving_stack_name(model_project: str, stage: str) -> str:
    """``<project>-<stage>``, the serving stack of a model project in a stage."""
    if stage not in STAGES:
        raise GraphError(f"unknown stage {stage!r}: expected one of {', '.join(STAGES)}")
    return f"{model_project}-{stage}"


def parse_serving_stack_name(name: str) -> tuple[str, str]:
    """Split ``<project>-<stage>`` into (project, stage)."""
    project, _, stage = name.rpartition("-")
    if not project or stage not in STAGES:
        raise GraphError(f"{name!r} is not a serving stack name (<project>-{'|'.join(STAGES)})")
    return project, stage


class StackGraph:
    """The nodes of one deploy graph with their upstream edges, ordered in waves."""

    def __init__(self, nodes: Iterable[StackNode]) -> None:
        self.nodes: dict[str, StackNode] = {}
        for node in nodes:
            if node.name in self.nodes:
                raise GraphError(f"stack {node.name!r} appears twice in the graph")
            self.nodes[node.name] = node
        for node in self.nodes.values():
            missing = [up for up in node.upstream if up not in self.nodes]
            if missing:
                raise GraphError(f"stack {node.name!r} depends on unknown stack(s): {', '.join(missing)}")
        # Validate once, so a cycle is reported however the graph is used.
        self._waves = topological_waves({n.name: n.upstream for n in self.nodes.values()})

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def waves(self, only: Iterable[str] | None = None) -> list[list[str]]:
        """Stacks in deploy order; stacks of one wave do not depend on each other.

        ``only`` keeps the named stacks (their relative order is kept, their upstream is not added).
        """
        keep = set(self.nodes) if only is None else set(only)
        unknown = keep - set(self.nodes)
        if unknown:
            raise GraphError(f"unknown stack(s): {', '.join(sorted(unknown))}")
        waves = [[name for name in wave if name in keep] for wave in self._waves]
        return [wave for wave in waves if wave]

    def ancestors(self, name: str) -> set[str]:
        """Every stack that ``name`` depends on, directly or not."""
        seen: set[str] = set()
        pending = list(self.nodes[name].upstream)
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.nodes[current].upstream)
        return seen

    def descendants(self, name: str) -> set[str]:
        """Every stack that depends on ``name``, directly or not."""
        return {other for other in self.nodes if name in self.ancestors(other)}


def topological_waves(upstream: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Group nodes in waves: a node's upstream nodes are all in earlier waves (Kahn's algorithm).

    Raises ``GraphCycleError`` naming the cycle when the graph cannot be ordered.
    """
    remaining = {name: set(deps) for name, deps in upstream.items()}
    for name, deps in remaining.items():
        unknown = sorted(deps - set(remaining))
        if unknown:
            raise GraphError(f"{name!r} depends on unknown node(s): {', '.join(unknown)}")
    waves: list[list[str]] = []
    done: set[str] = set()
    while remaining:
        ready = sorted(name for name, deps in remaining.items() if deps <= done)
        if not ready:
            raise GraphCycleError(_find_cycle(remaining))
        waves.append(ready)
        done.update(ready)
        for name in ready:
            del remaining[name]
    return waves


def _find_cycle(remaining: Mapping[str, set[str]]) -> list[str]:
    """A cycle among nodes that could not be ordered (each has an upstream node among them)."""
    start = min(remaining)
    path: list[str] = [start]
    position = {start: 0}
    current = start
    while True:
        current = min(dep for dep in remaining[current] if dep in remaining)
        if current in position:
            cycle = path[position[current]:] + [current]
            # Report the cycle in deploy direction (upstream first).
            return list(reversed(cycle))
        position[current] = len(path)
        path.append(current)


def _upstream_stacks(role: str, stacks_by_role: Mapping[str, list[str]]) -> list[str]:
    """Stacks of the nearest upstream roles that have stacks (skips e.g. an absent DATA)."""
    result: list[str] = []
    for up_role in ROLE_UPSTREAM[role]:
        if stacks_by_role.get(up_role):
            result.extend(stacks_by_role[up_role])
        else:
            result.extend(_upstream_stacks(up_role, stacks_by_role))
    return list(dict.fromkeys(result))  # exp without DATA reaches log-archive twice: through data and directly


def build_graph(
    platform_stacks: Mapping[str, str],
    serving_stacks: Iterable[str] = (),
    *,
    has_data_account: bool = True,
) -> StackGraph:
    """The deploy graph for the given platform stacks (name -> role) and serving stack names.

    ``has_data_account=False`` drops any data stack: the organisation runs without a DATA account.
    """
    stacks_by_role: dict[str, list[str]] = {role: [] for role in PLATFORM_ROLES}
    project_stacks: dict[str, str] = {}
    for name, role in sorted(platform_stacks.items()):
        if role not in ROLE_UPSTREAM:
            raise GraphError(f"stack {name!r} has unknown role {role!r}")
        if role == "data" and not has_data_account:
            continue
        account_stack = account_stack_of(name)
        if account_stack in platform_stacks:
            project_stacks[name] = account_stack  # a model project's stack: after its account stack only
        else:
            stacks_by_role[role].append(name)

    nodes = [
        StackNode(name, role, PLATFORM_PROJECT, tuple(_upstream_stacks(role, stacks_by_role)))
        for role in PLATFORM_ROLES
        for name in stacks_by_role[role]
    ]
    nodes += [StackNode(name, platform_stacks[name], PLATFORM_PROJECT, (account,)) for name, account in project_stacks.items()]
    serving = sorted(set(serving_stacks))
    for name in serving:
        project, stage = parse_serving_stack_name(name)
        upstream = list(stacks_by_role[stage])
        if not upstream:
            raise GraphError(f"serving stack {name!r} needs a platform stack with role {stage!r}")
        previous = STAGES.index(stage) - 1
        if previous >= 0 and serving_stack_name(project, STAGES[previous]) in serving:
            upstream.append(serving_stack_name(project, STAGES[previous]))
        nodes.append(StackNode(name, stage, SERVING_PROJECT, tuple(upstream)))
    return StackGraph(nodes)


def undeclared_references(graph: StackGraph, references: Mapping[str, Iterable[str]]) -> list[str]:
    """Stack references the graph does not order: each referenced stack must be upstream of the referrer
    (or the referrer itself, reading its own previous outputs).

    ``references`` maps a stack to the names its ``StackReference``s use (``organization/<project>/<stack>``).
    Returns one message per reference that disagrees with the graph (empty when they agree).
    """
    problems = []
    for stack, names in sorted(references.items()):
        upstream = graph.ancestors(stack) if stack in graph else set()
        for reference in names:
            parts = reference.split("/")
            referenced = parts[-1]
            project = parts[-2] if len(parts) >= 2 else None
            node = graph.nodes.get(referenced)
            if referenced == stack and node is not None and node.project == project:
                continue  # a stack reading its own previous outputs orders nothing
            if node is None or (project is not None and node.project != project):
                problems.append(f"{stack} references {reference}, which is not a stack of the graph")
            elif referenced not in upstream:
                problems.append(f"{stack} references {reference}, but the graph does not deploy {referenced} before {stack}")
    return problems
