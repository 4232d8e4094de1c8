"""`mlops-platform check`: evaluate the guardrail pack offline (no Pulumi CLI, no credentials).

Inputs: the platform's own stacks run under mocks (default: all), in two passes: with known outputs,
and as a first ``pulumi preview`` sees them (outputs unknown); a serving stack (``--serving``); what
``pulumi preview --json`` wrote (``--preview-json``) or what ``pulumi stack export`` wrote
(``--stack-export``). Each stack is checked with its role's policy config (serving stacks: their
stage's), derived from the validated ``organization.yaml`` of this run, never read from the
generated ``policies/config/<role>.json`` (a stale one is reported in one line naming the command
that rewrites it); unknown stacks get the pack's defaults; ``--policy-config FILE`` overrides.
``--list-policies`` prints the catalogue instead (text, json or markdown).
Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 bad input or nothing evaluated.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlops_platform.commands.common import BadInput, StackOption, fail, progress_line, project_root, write_output

if TYPE_CHECKING:  # the pack and the harness load only when the command runs
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import GateResult
    from mlops_guard.model import Resource
    from mlops_platform.harness import StackPlan
    from mlops_platform.limits import LimitsReport
    from mlops_platform.plan_view import Counts


FORMATS = ("text", "json", "sarif")
CATALOGUE_FORMATS = ("text", "json", "markdown")
KNOWN_PASS = "known outputs"
PREVIEW_PASS = "preview (outputs unknown, as a first `pulumi preview`)"


@dataclass
class CheckPass:
    """One evaluation pass over the inputs: its name and what it found."""

    name: str
    result: GateResult


@dataclass
class CheckRun:
    """Everything one ``check`` evaluated: the merged result and each pass on its own."""

    result: GateResult
    passes: list[CheckPass] = field(default_factory=list)
    counts: Counts | None = None
    """What the planned stacks would create (None when only files were checked)."""
    limits: LimitsReport | None = None
    """AWS's limits over every planned stack, both passes (None when only files were checked)."""


def _relative(path: Path, root: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), root) if path.resolve().is_relative_to(root) else str(path)
    except (OSError, ValueError):
        return str(path)


def _role_of(stack: str, root: Path) -> str | None:
    """The role of a stack named in a URN: its stack file's mlops:role, else a serving stage, else None."""
    from mlops_core.config import derived_project_stack_config, list_stacks, load_settings
    from mlops_platform.policy_config import role_for_stack

    if stack in list_stacks(root) or derived_project_stack_config(stack, root) is not None:
        return load_settings(stack, root).role
    return role_for_stack(stack)


class _PackConfigs:
    """The policy config per role: ``--policy-config``, else derived from this run's validated config,
    else (a stack of no known role) the pack's defaults."""

    def __init__(self, root: Path, override: PackConfig | None) -> None:
        self.root, self.override = root, override
        self._derived: dict[str, PackConfig] | None = None

    def for_role(self, role: str | None) -> PackConfig:
        from mlops_guard.config import PackConfig
        from mlops_platform.policy_config import pack_configs

        if self.override is not None:
            return self.override
        if role is None:
            return PackConfig()
        if self._derived is None:
            self._derived = pack_configs(self.root)
        return self._derived.get(role, PackConfig())


def _context_of(plan: StackPlan, root: Path) -> list[Resource]:
    """The resources of the stack another stack builds on, planned with known outputs: a serving
    stack's platform stack, a model project's account stack (its roles live there); else none."""
    from mlops_core.config import account_stack_of
    from mlops_guard.inputs import from_records
    from mlops_platform import harness

    if plan.project != harness.PLATFORM_PROJECT:
        config, _, _ = harness.serving_stack_config(plan.stack, None, root)
        upstream = config["serving:platformStack"]
    elif (account_stack := account_stack_of(plan.stack)) is not None:
        upstream = account_stack
    else:
        return []
    return from_records(harness.plan_stack(upstream, root=root, disk_cache=True).resources)


def _stack_file(stack: str, root: Path | None = None) -> str:
    """Repo-relative file that configures a stack (the SARIF location of its stack-level findings)."""
    root = root or project_root()
    from mlops_core.config import account_stack_of

    account_stack = account_stack_of(stack) or stack  # a model project's stack is configured by its account stack's file
    for candidate in (f"Pulumi.{stack}.yaml", f"Pulumi.{account_stack}.yaml", f"serving/Pulumi.{stack}.yaml", "serving/Pulumi.yaml"):
        if (root / candidate).exists():
            return candidate
    return "Pulumi.yaml"


def _at_resources(result: GateResult, resources: list[Resource]) -> GateResult:
    """Stack-level findings are about one resource (``<name>: ...``): point them at it, and at its
    declaring line, instead of the stack."""
    from mlops_guard.engine import ROOT_STACK_TYPE

    by_name: dict[str, list[Resource]] = {}
    for resource in resources:
        by_name.setdefault(resource.name, []).append(resource)
    located = []
    for violation in result.violations:
        name = violation.message.partition(": ")[0]
        candidates = by_name.get(name, [])
        if violation.resource_type == ROOT_STACK_TYPE and len(candidates) == 1:
            resource = candidates[0]
            violation = dataclasses.replace(
                violation, urn=resource.urn, resource_type=resource.type, source=resource.source or violation.source
            )
        located.append(violation)
    result.violations = located
    return result


def _with_location(result: GateResult, location: str) -> GateResult:
    """Point violations without a declaring source line at the stack or input file."""
    result.violations = [v if v.source else dataclasses.replace(v, source=(location, 1)) for v in result.violations]
    return result


def _evaluate(resources: list[Resource], config: PackConfig, *, stack: str, project: str, location: str,
              context: list[Resource] | None = None) -> GateResult:
    from mlops_guard.engine import evaluate_stack

    result = evaluate_stack(resources, config, stack=stack, project=project, context=context or [])
    return _with_location(_at_resources(result, resources), location)


def _file_passes(root: Path, configs: _PackConfigs, preview_json: list[Path], stack_export: list[Path]) -> list[CheckPass]:
    from mlops_guard.engine import GateResult
    from mlops_guard.inputs import read_preview_json, read_stack_export

    passes = []
    inputs = [*((p, read_preview_json, "--preview-json") for p in preview_json), *((p, read_stack_export, "--stack-export") for p in stack_export)]
    for path, reader, option in inputs:
        result = GateResult()
        for item in reader(path):
            config = configs.for_role(_role_of(item.stack, root))
            result.extend(_evaluate(item.resources, config, stack=item.stack, project=item.project,
                                    location=_relative(path, root)))
        passes.append(CheckPass(f"{option} {path}", result))
    return passes


def _plan_passes(root: Path, configs: _PackConfigs, stacks: list[str] | None, serving: list[str] | None
                 ) -> tuple[list[CheckPass], Counts, LimitsReport]:
    from mlops_core.config import validate_stacks
    from mlops_guard.engine import GateResult
    from mlops_guard.inputs import from_records
    from mlops_platform import harness
    from mlops_platform.limits import LimitsReport, check_plans
    from mlops_platform.plan_view import count_plans

    platform = list(dict.fromkeys(stacks or (harness.default_stacks(root) if not serving else [])))
    validate_stacks(platform, root)
    passes, counts, limits = [], None, LimitsReport()
    with progress_line() as progress:
        # Both passes' platform plans at once: from .plan-cache, the rest spread over the cores.
        progress.show(f"check: planning {len(platform)} stack(s), known and unknown outputs")
        planned = harness.plan_many([(name, preview) for preview in (False, True) for name in platform],
                                    root=root, disk_cache=True, parallel=True)
        for preview, name in ((False, KNOWN_PASS), (True, PREVIEW_PASS)):
            progress.show(f"check: planning and evaluating, {name.split(' (')[0]} pass")
            plans: dict[str, StackPlan] = {stack: planned[(stack, preview)] for stack in platform}
            plans.update({n: harness.plan_serving(n, preview=preview, root=root, disk_cache=True) for n in serving or []})
            counts = counts or count_plans(plans)
            found = check_plans(plans)
            if preview:
                found.not_checked.clear()  # the same resources as the known pass: count them once
            limits.extend(found)
            result = GateResult()
            for plan in plans.values():
                context = _context_of(plan, root)
                result.extend(_evaluate(from_records(plan.resources), configs.for_role(plan.role), stack=plan.stack,
                                        project=plan.project, location=_stack_file(plan.stack, root), context=context))
            passes.append(CheckPass(name, result))
    return passes, counts, limits


def run_passes(
    stacks: list[str] | None,
    serving: list[str] | None,
    preview_json: list[Path] | None,
    stack_export: list[Path] | None,
    policy_config: Path | None,
    root: Path | None = None,
) -> CheckRun:
    """Evaluate the selected inputs, pass by pass. Raises on bad input (one-line messages)."""
    from mlops_guard.config import load_pack_config
    from mlops_guard.engine import GateResult

    root = root or project_root()
    configs = _PackConfigs(root, load_pack_config(policy_config) if policy_config else None)
    passes = _file_passes(root, configs, list(preview_json or []), list(stack_export or []))
    counts = limits = None
    # Own stacks run when asked for, or when no input file is given (then: every platform stack).
    if stacks or serving or not (preview_json or stack_export):
        plan_passes, counts, limits = _plan_passes(root, configs, stacks, serving)
        passes += plan_passes
    total = GateResult()
    for check_pass in passes:
        total.extend(check_pass.result)
    return CheckRun(total, passes, counts, limits)


def run_check(
    stacks: list[str] | None,
    serving: list[str] | None,
    preview_json: list[Path] | None,
    stack_export: list[Path] | None,
    policy_config: Path | None,
    root: Path | None = None,
) -> GateResult:
    """Evaluate the selected inputs; returns the merged GateResult. Raises on bad input (one line)."""
    return run_passes(stacks, serving, preview_json, stack_export, policy_config, root).result


def stale_policy_config_note(root: Path) -> str | None:
    """One line when the generated files the Pulumi CLI reads differ from this config, else None."""
    from mlops_core.config import ConfigError
    from mlops_platform.policy_config import stale_files, stale_message

    try:
        stale = stale_files(root)
    except ConfigError:
        return None  # the check itself reports the config's problems
    return stale_message(stale, root) if stale else None


def _list_policies(output_format: str, out: Path | None) -> None:
    from mlops_core.config import ConfigError
    from mlops_platform.catalogue import render_catalogue

    if output_format not in CATALOGUE_FORMATS:
        raise fail(f"--format must be one of {', '.join(CATALOGUE_FORMATS)} with --list-policies (got {output_format!r})")
    try:
        text = render_catalogue(output_format, project_root())
    except (BadInput, ConfigError) as exc:
        raise fail(str(exc)) from None
    write_output(text, out)


def register(app: typer.Typer) -> None:
    """Add `check` to the CLI."""

    @app.command("check")
    def check(
        stack: StackOption = None,
        serving: Annotated[list[str] | None, typer.Option("--serving", metavar="PROJECT-STAGE", help="Serving stack <project>-<stage> to check.")] = None,
        preview_json: Annotated[list[Path] | None, typer.Option("--preview-json", metavar="FILE", help="File written by `pulumi preview --json`.")] = None,
        stack_export: Annotated[list[Path] | None, typer.Option("--stack-export", metavar="FILE", help="File written by `pulumi stack export`.")] = None,
        policy_config: Annotated[Path | None, typer.Option("--policy-config", metavar="FILE", help="Policy pack config JSON (overrides the role's config).")] = None,
        output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text, json or sarif (--list-policies: text, json or markdown).")] = "text",
        out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the report here instead of stdout.")] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every check that could not be evaluated.")] = False,
        list_policies: Annotated[bool, typer.Option("--list-policies", help="Print the policy catalogue and exit.")] = False,
    ) -> None:
        """Check the guardrail policy pack offline; exit 1 on any mandatory violation."""
        from mlops_core.config import ConfigError
        from mlops_guard.config import PolicyConfigError
        from mlops_guard.inputs import InputError
        from mlops_guard.report import render

        from mlops_platform.harness import PlanError

        if list_policies:
            _list_policies(output_format, out)
            return
        if output_format not in FORMATS:  # checked here for a one-line error instead of click's box
            raise fail(f"--format must be one of {', '.join(FORMATS)} (got {output_format!r})")
        try:
            root = project_root()
            run = run_passes(stack, serving, preview_json, stack_export, policy_config, root)
        except (BadInput, InputError, PolicyConfigError, ConfigError, PlanError) as exc:
            raise fail(str(exc)) from None
        if run.result.resources_evaluated == 0:
            raise fail("nothing was evaluated (no resources in the selected inputs)")
        passes = [(p.name, p.result) for p in run.passes]
        text = render(run.result, output_format, default_location="Pulumi.yaml", passes=passes, verbose=verbose,
                      counts=run.counts.to_json() if run.counts else None)
        write_output(text, out)
        note = stale_policy_config_note(root)
        if note:
            typer.echo(f"note: {note}", err=True)
        over_limit = bool(run.limits and run.limits.violations)
        if run.limits is not None:
            for violation in dict.fromkeys(run.limits.violations):  # both passes may find the same value
                typer.echo(f"error: {violation.line()}", err=True)
            typer.echo(run.limits.summary(), err=True)
        raise typer.Exit(1 if run.result.mandatory or over_limit else 0)

