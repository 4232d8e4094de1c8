"""``mlops-platform plan``: the offline plan of the platform's stacks under Pulumi's mock runtime."""

from __future__ import annotations

import json
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from mlops_core.config import ConfigError, known_stacks, load_organization, validate_stacks
from mlops_platform.commands.common import BadInput, StackOption, fail, progress_line, project_root, write_output
from mlops_platform.harness import (
    PlanError,
    ResourceRecord,
    StackPlan,
    default_stacks,
    plan_serving,
    plan_stacks,
)
from mlops_platform.limits import LimitsReport, check_plans
from mlops_platform.plan_view import count, count_plans, in_deploy_order

EXIT_LIMIT = 1


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def record_to_json(record: ResourceRecord) -> dict:
    return {**record.to_json(), "protect": record.protect}


def plans_to_json(plans: dict[str, StackPlan], root: Path) -> dict:
    return {
        "project": str(root),
        "stacks": {
            name: {
                **plan.to_json(),
                "account": plan.account_id,
                "region": plan.region,
                "resources": [record_to_json(r) for r in sorted(plan.resources, key=lambda r: r.urn)],
                "counts": count(plan.resources).to_json(),
            }
            for name, plan in plans.items()
        },
        "totals": count_plans(plans).to_json(),
    }


def header(root: Path, plans: dict[str, StackPlan]) -> str:
    return f"Project {root}  ({len(plans)} stack{'s' if len(plans) != 1 else ''}, in deploy order)"


def stack_line(name: str, plan: StackPlan) -> str:
    counts = count(plan.resources, stacks=1)
    return (
        f"Stack {name}  (role {plan.role}, account {plan.account_id}, region {plan.region}): "
        f"+ {counts.to_create} to create ({counts.breakdown()})"
    )


def render_summary(plans: dict[str, StackPlan], root: Path) -> str:
    """One line per stack, then the totals."""
    lines = [header(root, plans), *(stack_line(name, plan) for name, plan in plans.items())]
    lines.append(count_plans(plans).totals_line())
    return "\n".join(lines) + "\n"


def render_text(plans: dict[str, StackPlan], root: Path) -> str:
    """Per stack: the resource tree (protected ones marked), counts by type; then the totals."""
    lines: list[str] = [header(root, plans), ""]
    for name, plan in plans.items():
        lines.append(stack_line(name, plan))
        lines.extend(_tree(plan.resources))
        lines.append("  Counts by type:")
        for type_token, number in sorted(Counter(r.type for r in plan.resources).items()):
            lines.append(f"    {number:4d}  {type_token}")
        lines.append("")
    lines.append(count_plans(plans).totals_line())
    lines.append("  (+ resource, # component; [protected]: `pulumi destroy` keeps it)")
    return "\n".join(lines) + "\n"


def _tree(resources: list[ResourceRecord]) -> list[str]:
    children: dict[str | None, list[ResourceRecord]] = {}
    urns = {r.urn for r in resources}
    for record in sorted(resources, key=lambda r: r.urn):
        parent = record.parent if record.parent in urns else None
        children.setdefault(parent, []).append(record)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for record in children.get(parent, []):
            mark = "  [protected]" if record.protect else ""
            lines.append(f"  {'  ' * depth}{'+' if record.custom else '#'} {record.type}  {record.name}{mark}")
            walk(record.urn, depth + 1)

    walk(None, 0)
    return lines


def plan_selected(
    root: Path, stacks: list[str] | None, serving: list[str] | None, model_package_arn: str | None, preview: bool
) -> dict[str, StackPlan]:
    """Validate everything first (every problem at once), then plan, in deploy order.

    Raises ConfigError (all problems), PlanError (one line) or BadInput (a bad option).
    """
    available = known_stacks(root)
    unknown = [name for name in stacks or [] if name not in available]
    if unknown:
        raise BadInput(f"--stack {unknown[0]}: no Pulumi.{unknown[0]}.yaml in {root} and no model project's stack of that name "
                       f"(stacks: {', '.join(available)})")
    if model_package_arn and not serving:
        raise BadInput("--model-package-arn needs --serving")
    platform = list(dict.fromkeys(stacks)) if stacks else ([] if serving else None)
    org = load_organization(root)
    validate_stacks(platform if platform is not None else default_stacks(root), root)
    plans: dict[str, StackPlan] = {}
    with progress_line() as progress:
        if platform is None or platform:
            progress.show(f"planning {len(platform or default_stacks(root))} stack(s) under the mock runtime")
            plans.update(plan_stacks(platform or None, preview=preview, root=root, disk_cache=True, parallel=True))
        for name in serving or []:
            progress.show(f"planning serving stack {name}")
            plans[name] = plan_serving(name, model_package_arn, preview=preview, root=root, disk_cache=True)
    return in_deploy_order(plans, org.has_data_account)


def enforce_limits(plans: dict[str, StackPlan]) -> LimitsReport:
    """AWS's limits on every planned value: one ``error: limit: ...`` line per violation and exit 1,
    else the counts on stderr (checked, unknown until apply, types not checked)."""
    report = check_plans(plans)
    if report.violations:
        for violation in report.violations:
            typer.echo(f"error: {violation.line()}", err=True)
        typer.echo(f"error: {report.summary()}", err=True)
        raise typer.Exit(EXIT_LIMIT)
    typer.echo(report.summary(), err=True)
    return report


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        stack: StackOption = None,
        output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
        out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write the plan to this file.")] = None,
        preview: Annotated[
            bool, typer.Option("--preview", help="Leave computed values unknown, as a first `pulumi preview` does.")
        ] = False,
        summary: Annotated[bool, typer.Option("--summary", help="One line per stack and the totals.")] = False,
        quotas: Annotated[
            bool, typer.Option("--quotas", help="Per account: planned resources with a default AWS quota, beside it.")
        ] = False,
        serving: Annotated[
            Optional[list[str]],
            typer.Option("--serving", metavar="PROJECT-STAGE",
                         help="Serving stack <project>-<stage> of the serving/ project (repeatable)."),
        ] = None,
        model_package_arn: Annotated[
            Optional[str], typer.Option("--model-package-arn", metavar="ARN",
                                        help="Model version for --serving (default: a documentation ARN).")
        ] = None,
    ) -> None:
        """Run each stack's real program under Pulumi's mock runtime: no CLI, no credentials, no network.

        Every planned value is checked against AWS's limits (botocore's service models and documented
        quotas); a value over one fails the plan (exit 1), one line naming stack, resource, field, size, limit.
        """
        try:
            root = project_root()
            plans = plan_selected(root, stack, serving, model_package_arn, preview)
        except (BadInput, ConfigError, PlanError) as exc:
            raise fail(str(exc)) from None
        enforce_limits(plans)
        if quotas:
            from mlops_platform.limits.accounts import quota_rows, render_rows

            write_output(render_rows(quota_rows(plans)), out)
        elif output_format is OutputFormat.json:
            write_output(json.dumps(plans_to_json(plans, root), indent=2, sort_keys=False), out)
        elif summary:
            write_output(render_summary(plans, root), out)
        else:
            write_output(render_text(plans, root), out)
