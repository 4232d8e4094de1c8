"""``mlops-platform add project|scientist`` and ``remove project|scientist``: onboarding and
offboarding in ``organization.yaml`` without hand-editing it.

The file is edited in place (``mlops_platform.org_edit``: comments, order and layout kept), the
result is validated like every other run (all problems at once), and only a valid result is written.
Removing a project also takes it out of every data scientist's ``projects``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from mlops_core.config import ConfigError, organization_problems
from mlops_core.paths import ORGANIZATION_FILE
from mlops_core.roles import OPERATOR_PERSONAS, SCIENTIST_PERSONAS
from mlops_platform.commands.common import BadInput, fail, project_root
from mlops_platform.org_edit import EditError, OrganizationText

NEXT_STEP = "next: `make plan` shows what the change plans; commit organization.yaml when it is right"


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _validated_write(root: Path, edited: OrganizationText) -> None:
    """Write ``edited`` only if the organisation it describes is valid."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / ORGANIZATION_FILE).write_text(edited.text, encoding="utf-8")
        _, problems = organization_problems(Path(scratch))
    if problems:
        raise ConfigError.of(problems)
    (root / ORGANIZATION_FILE).write_text(edited.text, encoding="utf-8")


def _edit(action) -> None:
    """Load organization.yaml, apply ``action(text, root) -> message``, validate, write; one-line errors."""
    try:
        root = project_root()
        edited = OrganizationText((root / ORGANIZATION_FILE).read_text(encoding="utf-8"))
        message = action(edited)
        _validated_write(root, edited)
    except (BadInput, EditError) as error:
        raise fail(str(error)) from None
    except ConfigError as error:
        raise fail(f"{error}\nnothing was written") from None
    typer.echo(message)
    typer.echo(NEXT_STEP)


def _project_entry(name: str, description: str | None, data_set: str | None, columns: list[str],
                   threshold: float | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if description:
        entry["description"] = description
    if threshold is not None:
        entry["metricThreshold"] = threshold
    if data_set:
        access: dict[str, Any] = {"dataSet": data_set}
        if columns:
            access["columns"] = columns
        entry["dataAccess"] = [access]
    elif columns:
        raise BadInput("--columns needs --data-set")
    return entry


def register(app: typer.Typer) -> None:
    add = typer.Typer(help="Onboard a model project or a person (edits organization.yaml).", no_args_is_help=True)
    remove = typer.Typer(help="Offboard a model project or a person (edits organization.yaml).", no_args_is_help=True)

    @add.command("project")
    def add_project(
        name: Annotated[str, typer.Argument(metavar="NAME", help="Project name, e.g. paint-shop-qa.")],
        data_set: Annotated[str | None, typer.Option("--data-set", metavar="NAME", help="Data set of the lake it reads.")] = None,
        columns: Annotated[str | None, typer.Option("--columns", metavar="A,B,...", help="Columns it may read (default: every non-PII column).")] = None,
        description: Annotated[str | None, typer.Option("--description", metavar="TEXT", help="What the model does.")] = None,
        metric_threshold: Annotated[float | None, typer.Option("--metric-threshold", metavar="X", help="Minimum PR-AUC to register a model (default 0.5).")] = None,
    ) -> None:
        """Add a model project: registry group, bucket, pipeline and serving stacks follow from it."""

        def action(text: OrganizationText) -> str:
            if any(p.get("name") == name for p in text.items("modelProjects")):
                raise BadInput(f"modelProjects: project {name!r} already exists")
            text.append("modelProjects", _project_entry(name, description, data_set, _names(columns), metric_threshold))
            return f"organization.yaml: added model project {name}"

        _edit(action)

    @add.command("scientist")
    def add_scientist(
        name: Annotated[str, typer.Argument(metavar="NAME", help="User name (the IdP's userName session tag).")],
        persona: Annotated[str, typer.Option("--persona", metavar="PERSONA",
                                             help=f"One of {', '.join((*SCIENTIST_PERSONAS, *OPERATOR_PERSONAS))}.")],
        projects: Annotated[str | None, typer.Option("--projects", metavar="A,B,...", help="Model projects (data scientists only).")] = None,
    ) -> None:
        """Add a data scientist (lead, scientist, ml_engineer) or an operator (devops, platform_admin, auditor)."""

        def action(text: OrganizationText) -> str:
            if persona not in (*SCIENTIST_PERSONAS, *OPERATOR_PERSONAS):
                raise BadInput(f"--persona {persona}: one of {', '.join((*SCIENTIST_PERSONAS, *OPERATOR_PERSONAS))}")
            people = [*text.items("dataScientists"), *text.items("operators")]
            if any(p.get("name") == name for p in people):
                raise BadInput(f"dataScientists/operators: user {name!r} already exists")
            if persona in OPERATOR_PERSONAS:
                if projects:
                    raise BadInput(f"--projects: operators ({persona}) work on the platform, not on projects")
                text.append("operators", {"name": name, "persona": persona})
                return f"organization.yaml: added operator {name} ({persona})"
            text.append("dataScientists", {"name": name, "persona": persona, "projects": _names(projects)})
            return f"organization.yaml: added data scientist {name} ({persona})"

        _edit(action)

    @remove.command("project")
    def remove_project(name: Annotated[str, typer.Argument(metavar="NAME", help="The project to remove.")]) -> None:
        """Remove a model project and take it out of every data scientist's projects."""

        def action(text: OrganizationText) -> str:
            members = [p["name"] for p in text.items("dataScientists") if name in (p.get("projects") or [])]
            for member in members:
                person = next(p for p in text.items("dataScientists") if p.get("name") == member)
                text.set_list("dataScientists", member, "projects", [p for p in person["projects"] if p != name])
            text.remove("modelProjects", name)
            left = f" (and from {', '.join(members)})" if members else ""
            return f"organization.yaml: removed model project {name}{left}"

        _edit(action)

    @remove.command("scientist")
    def remove_scientist(name: Annotated[str, typer.Argument(metavar="NAME", help="The user to offboard.")]) -> None:
        """Offboard a data scientist or an operator: their roles and profile go with the next deploy."""

        def action(text: OrganizationText) -> str:
            for key in ("dataScientists", "operators"):
                if any(p.get("name") == name for p in text.items(key)):
                    text.remove(key, name)
                    return f"organization.yaml: removed {name} from {key}"
            raise BadInput(f"dataScientists/operators: no user named {name!r}")

        _edit(action)

    app.add_typer(add, name="add")
    app.add_typer(remove, name="remove")
