"""``mlops-platform access``: evaluate every journey step of ``mlops_platform/access/journeys.yaml``
against the planned platform with the independent IAM engine (``tools/iam-simulate``).

Exit codes: 0 every step holds, 1 a step does not, 2 bad input (journeys file, stack name, engine missing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlops_platform.commands.common import BadInput, fail, project_root, write_output

FORMATS = ("text", "json")


def run_access(journeys_file: Path | None = None, stacks: list[str] | None = None, root: Path | None = None):
    """The checks of every step (of the steps touching ``stacks``); raises on bad input."""
    from mlops_core.config import load_organization
    from mlops_platform.access import engine, evaluate, journeys
    from mlops_platform.access.collect import collect

    root = root or project_root()
    loaded = journeys.load(journeys_file or journeys.JOURNEYS_FILE)
    model = collect(loaded.product_parameters, root=root)
    unknown = [s for s in stacks or [] if s not in model.accounts]
    if unknown:
        raise journeys.JourneyError(f"--stack {unknown[0]}: not a planned stack (stacks: {', '.join(model.stacks)})")
    org = load_organization(root)
    settings = evaluate.Settings(org.platform_name, org.region, org.identity.mode, org.identity.user_name_tag, org.identity.saml_provider_name)
    checks = evaluate.evaluate(loaded.steps, model, settings, engine.run_batch)
    if stacks:
        checks = [c for c in checks if c.stacks & set(stacks)]
    return checks


def register(app: typer.Typer) -> None:
    """Add `access` to the CLI."""

    @app.command("access")
    def access(
        stack: Annotated[list[str] | None, typer.Option("--stack", "-s", metavar="STACK", help="Only steps whose principal or resource is in this stack (repeatable).")] = None,
        output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text or json.")] = "text",
        out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the report here instead of stdout.")] = None,
        journeys_file: Annotated[Path | None, typer.Option("--journeys", metavar="FILE", help="Journeys file (default: the committed one).")] = None,
    ) -> None:
        """Evaluate the golden path and the isolation promises with an independent IAM engine."""
        from mlops_core.config import ConfigError
        from mlops_platform.access.engine import EngineError
        from mlops_platform.access.evaluate import render_text
        from mlops_platform.access.journeys import JourneyError
        from mlops_platform.access.model import ModelError
        from mlops_platform.harness import PlanError

        if output_format not in FORMATS:
            raise fail(f"--format must be one of {', '.join(FORMATS)} (got {output_format!r})")
        try:
            checks = run_access(journeys_file, stack)
        except (BadInput, JourneyError, ModelError, EngineError, ConfigError, PlanError) as exc:
            raise fail(str(exc)) from None
        if not checks:
            raise fail("no journey step touches the selected stacks")
        failed = sum(not c.passed for c in checks)
        if output_format == "json":
            text = json.dumps({"checks": [c.to_json() for c in checks], "summary": {"checks": len(checks), "failed": failed}}, indent=1)
        else:
            text = render_text(checks)
        write_output(text, out)
        raise typer.Exit(1 if failed else 0)
