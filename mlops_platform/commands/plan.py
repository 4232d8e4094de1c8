"""``mlops-platform plan``: the offline plan of the platform's stacks under Pulumi's mock runtime."""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from mlops_core.paths import REPO_ROOT
from mlops_core.config import ConfigError, list_stacks
from mlops_platform.harness import PlanError, ResourceRecord, StackPlan, plan_serving, plan_stacks


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def plans_to_json(plans: dict[str, StackPlan]) -> dict:
    return {"stacks": {name: plan.to_json() for name, plan in plans.items()}}


def render_text(plans: dict[str, StackPlan]) -> str:
    """Per stack: the resource tree, then counts by type."""
    lines: list[str] = []
    for name, plan in plans.items():
        custom = [r for r in plan.resources if r.custom]
        lines.append(
            f"Stack {name}  (role {plan.role}, account {plan.account_id}, region {plan.region}): "
            f"{len(custom)} resources, {len(plan.resources) - len(custom)} components"
        )
        lines.extend(_tree(plan.resources))
        lines.append("  Counts by type:")
        for type_token, count in sorted(Counter(r.type for r in plan.resources).items()):
            lines.append(f"    {count:4d}  {type_token}")
        lines.append("")
    return "\n".join(lines)


def _tree(resources: list[ResourceRecord]) -> list[str]:
    children: dict[str | None, list[ResourceRecord]] = {}
    urns = {r.urn for r in resources}
    for record in sorted(resources, key=lambda r: r.urn):
        parent = record.parent if record.parent in urns else None
        children.setdefault(parent, []).append(record)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for record in children.get(parent, []):
            lines.append(f"  {'  ' * depth}{'+' if record.custom else '#'} {record.type}  {record.name}")
            walk(record.urn, depth + 1)

    walk(None, 0)
    return lines


def write_output(text: str, out: Optional[Path]) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"--out {out}: cannot write ({exc.strerror})") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        stack: Annotated[
            Optional[list[str]], typer.Option("--stack", "-s", help="Stack to plan (repeatable); default: all.")
        ] = None,
        output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
        out: Annotated[Optional[Path], typer.Option("--out", help="Write the plan to this file.")] = None,
        preview: Annotated[
            bool, typer.Option("--preview", help="Leave computed values unknown, as a first `pulumi preview` does.")
        ] = False,
        serving: Annotated[
            Optional[list[str]],
            typer.Option("--serving", help="Serving stack <project>-<stage> of the serving/ project (repeatable)."),
        ] = None,
        model_package_arn: Annotated[
            Optional[str], typer.Option("--model-package-arn", help="Model version for --serving (default: a documentation ARN).")
        ] = None,
    ) -> None:
        """Run each stack's real program under Pulumi's mock runtime: no CLI, no credentials, no network."""
        available = list_stacks(REPO_ROOT)
        unknown = [name for name in stack or [] if name not in available]
        if unknown:
            raise fail(f"--stack {unknown[0]}: no Pulumi.{unknown[0]}.yaml here (stacks: {', '.join(available)})")
        if model_package_arn and not serving:
            raise fail("--model-package-arn needs --serving")
        try:
            plans = plan_stacks(stack, preview=preview, root=REPO_ROOT) if stack or not serving else {}
            for name in serving or []:
                plans[name] = plan_serving(name, model_package_arn, preview=preview, root=REPO_ROOT)
        except (ConfigError, PlanError) as exc:
            raise fail(str(exc)) from None
        if output_format is OutputFormat.json:
            write_output(json.dumps(plans_to_json(plans), indent=2, sort_keys=False), out)
        else:
            write_output(render_text(plans), out)
