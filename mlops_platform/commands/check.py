"""`mlops-platform check`: evaluate the guardrail pack offline (no Pulumi CLI, no credentials).

Inputs: the platform's own stacks run under mocks (default: all; both with known outputs and in
preview mode, where outputs are unknown), a serving stack (``--serving``), what ``pulumi preview
--json`` wrote (``--preview-json``) or what ``pulumi stack export`` wrote (``--stack-export``).
Each stack is checked with ``policies/config/<role>.json`` for its role (serving stacks: their
stage), unknown stacks with the pack's defaults, or with ``--policy-config``.
Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 bad input or nothing evaluated.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlops_core.paths import REPO_ROOT

if TYPE_CHECKING:  # the pack and the harness load only when the command runs
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import GateResult
    from mlops_platform.harness import StackPlan


FORMATS = ("text", "json", "sarif")


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), REPO_ROOT) if path.resolve().is_relative_to(REPO_ROOT) else str(path)
    except (OSError, ValueError):
        return str(path)


def _role_of(stack: str) -> str | None:
    """The role of a stack named in a URN: its stack file's mlops:role, else a serving stage, else None."""
    from mlops_core.config import list_stacks, load_settings
    from mlops_platform.policy_config import role_for_stack

    return load_settings(stack, REPO_ROOT).role if stack in list_stacks(REPO_ROOT) else role_for_stack(stack)


def _pack_config(role: str | None, override: PackConfig | None, cache: dict[str, PackConfig]) -> PackConfig:
    """The policy config for a role: --policy-config, else policies/config/<role>.json, else pack defaults."""
    from mlops_core.paths import policy_config_file
    from mlops_guard.config import PackConfig, load_pack_config

    if override is not None:
        return override
    if role is None:
        return PackConfig()
    if role not in cache:
        path = policy_config_file(REPO_ROOT, role)
        cache[role] = load_pack_config(path) if path.exists() else PackConfig()
    return cache[role]


def _platform_stack_of(plan: StackPlan) -> StackPlan:
    """The platform stack a serving stack runs on (its roles live there), planned with known outputs."""
    from mlops_platform import harness

    config, _, _ = harness.serving_stack_config(plan.stack, None, REPO_ROOT)
    return harness.plan_stack(config["serving:platformStack"], root=REPO_ROOT)


def _stack_file(stack: str) -> str:
    """Repo-relative file that configures a stack (the SARIF location of its stack-level findings)."""
    for candidate in (f"Pulumi.{stack}.yaml", f"serving/Pulumi.{stack}.yaml", "serving/Pulumi.yaml"):
        if (REPO_ROOT / candidate).exists():
            return candidate
    return "Pulumi.yaml"


def _with_location(result: GateResult, location: str) -> GateResult:
    """Point violations without a declaring source line at the stack or input file."""
    result.violations = [v if v.source else dataclasses.replace(v, source=(location, 1)) for v in result.violations]
    return result


def run_check(
    stacks: list[str] | None,
    serving: list[str] | None,
    preview_json: list[Path] | None,
    stack_export: list[Path] | None,
    policy_config: Path | None,
) -> GateResult:
    """Evaluate the selected inputs; returns a GateResult. Raises on bad input (one-line messages)."""
    from mlops_guard.config import load_pack_config
    from mlops_guard.engine import GateResult, evaluate_stack
    from mlops_guard.inputs import from_records, read_preview_json, read_stack_export

    override = load_pack_config(policy_config) if policy_config else None
    cache: dict[str, PackConfig] = {}
    total = GateResult()

    for path, reader in [*((p, read_preview_json) for p in preview_json or []), *((p, read_stack_export) for p in stack_export or [])]:
        for item in reader(path):
            config = _pack_config(_role_of(item.stack), override, cache)
            total.extend(_with_location(evaluate_stack(item.resources, config, stack=item.stack, project=item.project), _relative(path)))

    # Own stacks run when asked for, or when no input file is given (then: every platform stack).
    if stacks or serving or not (preview_json or stack_export):
        from mlops_platform import harness

        plans = []
        for preview in (False, True):  # known outputs, then preview mode with unknown outputs
            if stacks or not serving:
                plans += list(harness.plan_stacks(stacks or None, preview=preview).values())
            plans += [harness.plan_serving(name, preview=preview) for name in serving or []]
        for plan in plans:
            config = _pack_config(plan.role, override, cache)
            context = from_records(_platform_stack_of(plan).resources) if plan.project != harness.PLATFORM_PROJECT else []
            result = evaluate_stack(from_records(plan.resources), config, stack=plan.stack, project=plan.project, context=context)
            total.extend(_with_location(result, _stack_file(plan.stack)))
    return total


def register(app: typer.Typer) -> None:
    """Add `check` to the CLI."""

    @app.command("check")
    def check(
        stack: Annotated[list[str] | None, typer.Option("--stack", help="Own stack to check (repeatable; default: all).")] = None,
        serving: Annotated[list[str] | None, typer.Option("--serving", help="Serving stack <project>-<stage> to check.")] = None,
        preview_json: Annotated[list[Path] | None, typer.Option("--preview-json", help="File written by `pulumi preview --json`.")] = None,
        stack_export: Annotated[list[Path] | None, typer.Option("--stack-export", help="File written by `pulumi stack export`.")] = None,
        policy_config: Annotated[Path | None, typer.Option("--policy-config", help="Policy pack config JSON (overrides the role's file).")] = None,
        output_format: Annotated[str, typer.Option("--format", help="text, json or sarif.")] = "text",
        out: Annotated[Path | None, typer.Option("--out", help="Write the report here instead of stdout.")] = None,
    ) -> None:
        """Check the guardrail policy pack offline; exit 1 on any mandatory violation."""
        from mlops_guard.config import PolicyConfigError
        from mlops_guard.inputs import InputError
        from mlops_guard.report import render
        from mlops_core.config import ConfigError

        from mlops_platform.harness import PlanError

        if output_format not in FORMATS:  # checked here for a one-line error instead of click's box
            typer.echo(f"error: --format must be one of {', '.join(FORMATS)} (got {output_format!r})", err=True)
            raise typer.Exit(2)
        try:
            result = run_check(stack, serving, preview_json, stack_export, policy_config)
        except (InputError, PolicyConfigError, ConfigError, PlanError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if result.resources_evaluated == 0:
            typer.echo("error: nothing was evaluated (no resources in the selected inputs)", err=True)
            raise typer.Exit(2)
        text = render(result, output_format, default_location="Pulumi.yaml")
        if out is not None:
            try:
                out.write_text(text, encoding="utf-8")
            except OSError as exc:
                typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
                raise typer.Exit(2) from None
        else:
            typer.echo(text, nl=False)
        raise typer.Exit(1 if result.mandatory else 0)
