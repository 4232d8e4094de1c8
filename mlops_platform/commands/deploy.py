"""`mlops-platform deploy`, `deploy model`, `drift` and `destroy`: the Automation API deployer's commands.

Every command checks its input first (config, stack names, ``--confirm``, the generated policy
configs), then its environment (backend, credentials, the Pulumi CLI), then acts.
Exit codes: 0 ok; 1 a stack failed, was skipped or refused, drift was found, or protected resources
remain after a destroy; 2 bad input or environment (one line: held lock, missing passphrase,
credentials or Pulumi CLI, bad config, unknown stack, upstream not deployed, graph cycle). With
``--json`` an error is also one ``{"type": "error", ...}`` event on stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from mlops_core import naming
from mlops_core.config import (
    ConfigError,
    OrganizationConfig,
    load_organization,
    load_settings,
)
from mlops_platform.deployer.backends import Backend, resolve_backend
from mlops_platform.commands.common import BadInput, StackOption, project_root
from mlops_platform.deployer.destroy import check_confirmation, destroy_stack
from mlops_platform.deployer.drift import detect_drift
from mlops_platform.deployer.errors import EXIT_BAD_INPUT, EXIT_FAILED, DeployerError
from mlops_platform.deployer.graph import SERVING_DIR, GraphError, StackGraph, build_graph, parse_serving_stack_name
from mlops_platform.deployer.model import deploy_model, validate_request
from mlops_platform.deployer.orchestrator import DeployOptions, deploy
from mlops_platform.deployer.progress import JsonProgress, LiveProgress, Progress
from mlops_platform.deployer.runner import AutomationStackRunner, StackOperationError, StackRunner, StackTarget

#: Seams for tests: a fixed project root (default: the project the CLI found) and how a runner is
#: made for a backend.
ROOT: Path | None = None


def _root() -> Path:
    return ROOT if ROOT is not None else project_root()


def make_runner(root: Path, backend: Backend) -> StackRunner:
    return AutomationStackRunner(root, backend)


def make_sagemaker_client(region: str) -> Any:
    import boto3

    return boto3.client("sagemaker", region_name=region)


def make_exp_sagemaker_client(org: OrganizationConfig) -> Callable[[], Any]:
    """A SageMaker client in the EXP account, through its deploy role (for emptying the Studio domain)."""

    def client() -> Any:
        import boto3

        role = naming.role_arn(org.accounts.exp, naming.deploy_role_name(org))
        creds = boto3.client("sts", region_name=org.region).assume_role(
            RoleArn=role, RoleSessionName="mlops-platform-destroy")["Credentials"]
        return boto3.client("sagemaker", region_name=org.region, aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])

    return client


BackendOption = Annotated[
    str | None, typer.Option("--backend", metavar="URL",
                             help="State backend URL (s3://..., file://..., https://api.pulumi.com).")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Stream newline-delimited JSON events instead of the live view.")]


def _fail(message: str, code: int, as_json: bool = False) -> typer.Exit:
    for line in message.splitlines() or [""]:
        typer.echo(f"error: {line}", err=True)
    if as_json:  # a consumer of the event stream sees the error too, not only a terminal
        typer.echo(json.dumps({"type": "error", "message": message, "exitCode": code}, sort_keys=True))
    return typer.Exit(code)


def _guard(action: Callable[[], int], as_json: bool = False) -> None:
    """Run a command body; turn the deployer's faults into one line and the right exit code."""
    try:
        code = action()
    except DeployerError as error:
        raise _fail(error.message, error.exit_code, as_json) from None
    except (ConfigError, GraphError, BadInput) as error:
        raise _fail(str(error), EXIT_BAD_INPUT, as_json) from None
    except StackOperationError as error:
        raise _fail(str(error), EXIT_FAILED, as_json) from None
    raise typer.Exit(code)


def platform_stacks(root: Path, org: OrganizationConfig) -> dict[str, str]:
    """Stack name -> role for every validated ``Pulumi.<name>.yaml``, without the optional stacks the
    organisation does not use (the same set as the offline plan)."""
    from mlops_platform.harness import default_stacks

    return {name: load_settings(name, root).role for name in default_stacks(root)}


def _runner(root: Path, org: OrganizationConfig, backend_url: str | None) -> StackRunner:
    """The environment, after the input was checked: the backend, its credentials, the Pulumi CLI."""
    backend = resolve_backend(root, backend_url, kms_alias=naming.kms_alias(org, naming.STATE_PURPOSE), region=org.region)
    runner = make_runner(root, backend)
    if isinstance(runner, AutomationStackRunner):
        runner.ensure_cli()  # before any live view starts
    return runner


def _check_policy_configs(root: Path) -> None:
    """Previews and ups pass policies/config/<role>.json to the Pulumi CLI: refuse stale ones."""
    from mlops_platform.policy_config import stale_files, stale_message

    stale = stale_files(root)
    if stale:
        raise DeployerError(stale_message(stale, root))


def _progress(as_json: bool, title: str) -> Progress:
    return JsonProgress(sys.stdout, title) if as_json else LiveProgress(title=title)


def _graph(root: Path, org: OrganizationConfig) -> tuple[StackGraph, dict[str, StackTarget]]:
    stacks = platform_stacks(root, org)
    graph = build_graph(stacks, has_data_account=org.has_data_account)
    return graph, {name: StackTarget(name, role, root) for name, role in stacks.items()}


def _existing_targets(root: Path, targets: dict[str, StackTarget], names: list[str]) -> list[StackTarget]:
    """Targets for drift and destroy: platform stacks, or serving stacks ``<project>-<stage>``."""
    result = []
    for name in dict.fromkeys(names):
        if name in targets:
            result.append(targets[name])
            continue
        try:
            _, stage = parse_serving_stack_name(name)
        except GraphError:
            raise DeployerError(f"--stack {name}: neither a platform stack nor a serving stack <project>-<stage>") from None
        result.append(StackTarget(name, stage, root / SERVING_DIR))
    return result


def _selected(graph: StackGraph, names: list[str] | None) -> list[str] | None:
    if not names:
        return None
    unknown = [name for name in names if name not in graph]
    if unknown:
        raise DeployerError(f"--stack {', '.join(unknown)}: no such platform stack (no Pulumi.<name>.yaml)")
    return list(dict.fromkeys(names))


def run_deploy(stack: list[str] | None, preview_only: bool, yes: bool, max_stacks: int, backend: str | None,
               as_json: bool) -> int:
    root = _root()
    org = load_organization(root)
    graph, targets = _graph(root, org)
    selected = _selected(graph, stack)
    if max_stacks < 1:
        raise BadInput(f"--max-stacks {max_stacks}: must be at least 1")
    _check_policy_configs(root)
    runner = _runner(root, org, backend)
    progress = _progress(as_json, "preview" if preview_only else "deploy")

    def confirm(question: str) -> bool:
        with progress.paused():
            return typer.confirm(question, default=False, err=True)

    # Without a terminal nobody can answer: INT and PROD then need --yes (CI's environment approval).
    options = DeployOptions(preview_only=preview_only, yes=yes, max_stacks=max_stacks,
                            confirm=confirm if sys.stdin.isatty() else None)
    try:
        report = deploy(graph, targets, runner, progress, options, selected)
    finally:
        progress.close()
    return 0 if report.ok else EXIT_FAILED


def register(app: typer.Typer) -> None:
    """Add ``deploy`` (with ``deploy model``), ``drift`` and ``destroy``."""
    deploy_app = typer.Typer(help="Deploy the platform stacks in graph order, each gated by a policy preview.")

    @deploy_app.callback(invoke_without_command=True)
    def deploy_command(
        ctx: typer.Context,
        stack: StackOption = None,
        preview_only: Annotated[bool, typer.Option("--preview-only", help="Preview with policies; change nothing.")] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before INT and PROD (CI).")] = False,
        max_stacks: Annotated[int, typer.Option("--max-stacks", metavar="N", help="Stacks run in parallel within a wave.")] = 4,
        backend: BackendOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Deploy (data -> exp -> res -> dev -> int -> prod), or `deploy model ...`."""
        if ctx.invoked_subcommand is not None:
            return
        _guard(lambda: run_deploy(stack, preview_only, yes, max_stacks, backend, as_json), as_json)

    @deploy_app.command("model")
    def model_command(
        project: Annotated[str, typer.Option("--project", metavar="NAME", help="Model project (serving stack <project>-<stage>).")],
        stage: Annotated[str, typer.Option("--stage", metavar="STAGE", help="dev, int or prod.")],
        model_package_arn: Annotated[str | None, typer.Option("--model-package-arn", metavar="ARN", help="Versioned model package ARN.")] = None,
        rollback: Annotated[bool, typer.Option("--rollback", help="Redeploy the previous version from the stack's history.")] = False,
        backend: BackendOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Deploy one model package version to the serving stack <project>-<stage>."""

        def body() -> int:
            root = _root()
            validate_request(project, stage, model_package_arn, rollback)
            org = load_organization(root)
            _check_policy_configs(root)
            runner = _runner(root, org, backend)
            progress = _progress(as_json, "deploy model")
            try:
                outcome = deploy_model(project=project, stage=stage, model_package_arn=model_package_arn,
                                       rollback=rollback, runner=runner, sagemaker_client=make_sagemaker_client,
                                       progress=progress, serving_dir=root / SERVING_DIR)
            finally:
                progress.close()
            if not as_json:
                typer.echo(f"{outcome.stack}: deployed {outcome.model_package_arn} ({outcome.approval_status}; "
                           f"{' then '.join(outcome.phases)})")
            return 0

        _guard(body, as_json)

    app.add_typer(deploy_app, name="deploy")

    @app.command("drift")
    def drift_command(stack: StackOption = None, backend: BackendOption = None, as_json: JsonOption = False) -> None:
        """List resources changed outside Pulumi (refresh --preview-only); exit 1 on drift.

        Default: every platform stack; --stack also takes serving stacks (<project>-<stage>).
        """

        def body() -> int:
            root = _root()
            org = load_organization(root)
            graph, targets = _graph(root, org)
            names = stack or [name for wave in graph.waves() for name in wave]
            existing = _existing_targets(root, targets, names)
            runner = _runner(root, org, backend)
            progress = _progress(as_json, "drift")
            try:
                results = detect_drift(existing, runner, progress)
            finally:
                progress.close()
            if not as_json:
                for result in results:
                    for step in result.drifted:
                        changed = f" ({', '.join(step.diffs)})" if step.diffs else ""
                        typer.echo(f"{result.stack}: {step.op} {step.urn}{changed}")
            return EXIT_FAILED if any(result.has_drift for result in results) else 0

        _guard(body, as_json)

    @app.command("destroy")
    def destroy_command(
        stack: Annotated[str, typer.Option("--stack", "-s", metavar="NAME", help="The one stack to destroy.")],
        confirm: Annotated[str | None, typer.Option("--confirm", metavar="ROLE", help="The stack's role; required as `--confirm prod` for PROD.")] = None,
        backend: BackendOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Destroy a platform or serving stack except protected resources; exit 1 when anything remains."""

        def body() -> int:
            root = _root()
            org = load_organization(root)
            graph, targets = _graph(root, org)
            [target] = _existing_targets(root, targets, [stack])
            check_confirmation(target, confirm)
            runner = _runner(root, org, backend)
            progress = _progress(as_json, "destroy")
            try:
                outcome = destroy_stack(target, confirm=confirm, runner=runner, progress=progress,
                                        sagemaker_client=make_exp_sagemaker_client(org))
            finally:
                progress.close()
            if outcome.remaining and not as_json:
                typer.echo(f"{stack}: {len(outcome.remaining)} protected resource(s) remain (exclude_protected):")
                for urn in outcome.remaining:
                    typer.echo(f"  {urn}")
            return EXIT_FAILED if outcome.remaining else 0

        _guard(body, as_json)
