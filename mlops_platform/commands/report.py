"""``mlops-platform report --out report.html``: the page a security reviewer can be handed.

It plans the stacks (known outputs), runs the same guardrail check as ``mlops-platform check`` (both
passes), reads the access checks' results (``--access-json FILE`` as ``mlops-platform access --format
json`` writes it; without it, the ``access`` command's module when it is installed) and writes one
self-contained HTML file (``mlops_platform.review_report``). Exit 0 when written, 2 for bad input;
findings do not change the exit code (``check`` gates, the report shows).
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from mlops_core.config import ConfigError
from mlops_platform.commands.common import BadInput, StackOption, fail, project_root, relative_to_cwd, write_output

ACCESS_MODULE = "mlops_platform.commands.access"


def read_access_json(path: Path) -> dict[str, Any]:
    """``{"checks": [...], "summary": {...}}`` from a file; BadInput naming what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"--access-json {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--access-json {path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"--access-json {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("checks"), list):
        raise BadInput(f"--access-json {path}: expected an object with a 'checks' list (mlops-platform access --format json)")
    if not isinstance(document.get("summary", {}), dict):
        raise BadInput(f"--access-json {path}: 'summary' must be an object")
    return document


def access_from_module() -> tuple[dict[str, Any] | None, str]:
    """The access checks run in-process when the ``access`` command is installed; else a note why not."""
    if importlib.util.find_spec(ACCESS_MODULE) is None:
        return None, "The access checks (mlops-platform access) are not part of this installation."
    try:
        module = importlib.import_module(ACCESS_MODULE)
        checks = module.run_access()
    except Exception as exc:  # noqa: BLE001 - the report shows why, it is not the access gate
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"The access checks could not run here: {first}"
    entries = [{**(c.to_json() if hasattr(c, "to_json") else dict(c)),
                **({"passed": c.passed} if isinstance(getattr(c, "passed", None), bool) else {})} for c in checks]
    failed = sum(1 for c in checks if getattr(c, "passed", True) is False)
    return {"checks": entries, "summary": {"checks": len(entries), "failed": failed}}, ""


def _commit(root: Path) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _config_files(root: Path, stacks: list[str]) -> dict[str, str]:
    names = ["organization.yaml", "Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in stacks)]
    return {name: (root / name).read_text(encoding="utf-8") for name in names if (root / name).is_file()}


def build(root: Path, stacks: list[str] | None, access: dict[str, Any] | None, access_note: str) -> str:
    from mlops_core.config import load_organization
    from mlops_platform.cli import package_version
    from mlops_platform.commands.check import run_passes
    from mlops_platform.harness import plan_stacks
    from mlops_platform.plan_view import in_deploy_order
    from mlops_platform.policy_config import pack_configs
    from mlops_platform.review_report import ReportInputs, render_report
    from mlops_guard.registry import ALL_POLICIES

    org = load_organization(root)
    run = run_passes(stacks, None, None, None, None, root)
    plans = in_deploy_order(plan_stacks(stacks or None, root=root), org.has_data_account)
    configs = pack_configs(root)
    levels = {role: {gp.name: config.level(gp.name) for gp in ALL_POLICIES} for role, config in configs.items()}
    inputs = ReportInputs(
        root=root, plans=plans, result=run.result, passes=[(p.name, p.result) for p in run.passes], levels=levels,
        config_files=_config_files(root, list(plans)), access=access, access_note=access_note,
        generated_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=package_version(), commit=_commit(root),
    )
    return render_report(inputs)


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="Where to write the page.")] = Path("report.html"),
        stack: StackOption = None,
        access_json: Annotated[Path | None, typer.Option(
            "--access-json", metavar="FILE", help="Access check results (`mlops-platform access --format json`).")] = None,
        run_access: Annotated[bool, typer.Option(
            "--access/--no-access", help="Without --access-json: run the access checks if installed.")] = True,
    ) -> None:
        """Write one self-contained HTML page for a security reviewer: plan, guardrails, accounts diagram, config."""
        from mlops_guard.config import PolicyConfigError
        from mlops_platform.harness import PlanError

        try:
            root = project_root()
            if access_json is not None:
                access, note = read_access_json(access_json), ""
            elif run_access:
                access, note = access_from_module()
            else:
                access, note = None, "Access checks were not requested (--no-access)."
            page = build(root, stack, access, note)
        except (BadInput, ConfigError, PlanError, PolicyConfigError) as exc:
            raise fail(str(exc)) from None
        write_output(page, out)
        typer.echo(f"wrote {relative_to_cwd(out)}")
