"""Running one stack operation: the ``StackRunner`` protocol and its ``pulumi.automation`` implementation.

The orchestrator, ``deploy model``, drift and destroy only talk to a ``StackRunner``. The real one,
``AutomationStackRunner``, drives ``LocalWorkspace``/``Stack`` over this repository's programs, always on
a **temporary working copy** of the project: the CLI writes into the stack file (``stack init`` adds the
secrets provider's ``encryptionsalt`` or ``secretsprovider``/``encryptedkey``, ``config set`` adds keys),
and the committed ``Pulumi.<stack>.yaml`` files must stay exactly as they are. The working copy holds
copies of ``Pulumi.yaml`` and of the stack file and links every other entry of the project directory
(program, ``.venv``, ``organization.yaml``, ...), so ``main`` and the runtime's ``virtualenv`` resolve
as in the repository. The secrets-provider fields the backend wrote are kept between runs under
``.pulumi-state/workspace-settings/`` (git-ignored), never in the committed file; where that directory
is empty (a fresh CI runner), they are restored from the stack's state.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from pulumi import automation as auto
from pulumi.automation import errors as auto_errors
from pulumi.automation.events import EngineEvent, OpType

from mlops_core.config import derived_project_stack_config
from mlops_core.paths import policy_config_file
from mlops_platform.deployer.backends import LOCAL_STATE_DIR, Backend
from mlops_platform.deployer.errors import (
    DeployerError,
    MissingPulumiCliError,
    classify_command_error,
    last_line,
)

#: Stack-file keys each backend writes for its secrets provider; never copied back to the repo.
SECRETS_PROVIDER_KEYS = ("encryptionsalt", "secretsprovider", "encryptedkey")
#: Ops that mean a resource differs from what the program declares (or, in a refresh, from the cloud).
CHANGE_OPS = frozenset({"create", "update", "delete", "replace", "create-replacement", "delete-replaced",
                        "import", "import-replacement", "discard", "discard-replaced", "remove-pending-replace"})

OnEvent = Callable[[str, EngineEvent], None]
"""Callback receiving (phase, engine event) while an operation runs."""


@dataclass(frozen=True)
class StackTarget:
    """A stack to operate on and where its program and policy config are."""

    name: str
    """Stack name (``dev``, ``churn-prod``)."""
    role: str
    """The role whose ``policies/config/<role>.json`` applies (for a serving stack: its stage)."""
    project_dir: Path
    """Directory holding the project's ``Pulumi.yaml`` (repo root, or ``serving/``)."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Config to set in the working copy before the operation (``serving:modelPackageArn``)."""
    only: tuple[str, ...] = ()
    """URNs an up is limited to (``--target``); empty: the whole stack."""


@dataclass(frozen=True)
class PolicyFinding:
    """One policy violation reported by the engine."""

    policy: str
    enforcement: str
    message: str
    urn: str | None = None

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass(frozen=True)
class Step:
    """One resource step of an operation (what the engine plans or does to a resource)."""

    op: str
    urn: str
    type: str
    diffs: tuple[str, ...] = ()
    """Changed property paths (``productionVariants[0].instanceType``)."""


@dataclass
class OperationResult:
    """What an operation did or would do."""

    stack: str
    operation: str
    changes: dict[str, int] = field(default_factory=dict)
    """Counts by op (``create``, ``update``, ``delete``, ``same`` ...) from the engine's summary."""
    policy_findings: list[PolicyFinding] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    remaining: list[str] = field(default_factory=list)
    """After a destroy: URNs still in the stack (protected resources kept by ``exclude_protected``)."""

    @property
    def has_changes(self) -> bool:
        return any(count for op, count in self.changes.items() if op in CHANGE_OPS)

    @property
    def mandatory_findings(self) -> list[PolicyFinding]:
        return [f for f in self.policy_findings if f.mandatory]


class StackOperationError(Exception):
    """An operation on one stack failed; carries what the engine reported before failing."""

    def __init__(self, stack: str, operation: str, message: str, result: OperationResult) -> None:
        super().__init__(f"{operation} of stack {stack} failed: {message}")
        self.stack, self.operation, self.reason, self.result = stack, operation, message, result


@dataclass(frozen=True)
class HistoryEntry:
    """One past update of a stack (newest first in ``StackRunner.history``)."""

    kind: str
    result: str
    config: Mapping[str, str]


class StackRunner(Protocol):
    """The operations the deployer needs on one stack."""

    def preview(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        """Preview with the policy pack; raises ``StackOperationError`` on failure or mandatory violation."""

    def up(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        """Update with the policy pack; raises ``StackOperationError`` on failure."""

    def refresh_preview(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        """``refresh --preview-only``: what differs between the state and the cloud."""

    def destroy(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        """Destroy everything but protected resources; ``remaining`` lists what is left."""

    def exists(self, target: StackTarget) -> bool:
        """Whether the stack exists on the backend."""

    def history(self, target: StackTarget) -> list[HistoryEntry]:
        """Past updates, newest first (empty when the stack does not exist)."""

    def outputs(self, target: StackTarget) -> dict[str, Any]:
        """Current stack outputs (plain values)."""


def is_deployed(runner: StackRunner, target: StackTarget) -> bool:
    """A stack counts as deployed when its last update or destroy was a successful update."""
    for entry in runner.history(target):
        if entry.kind in ("update", "destroy"):
            return entry.kind == "update" and entry.result == "succeeded"
    return False


def _op(metadata: Any) -> str:
    return metadata.op.value if isinstance(metadata.op, OpType) else str(metadata.op)


class _EventCollector:
    """Turns engine events into an ``OperationResult`` and forwards them to the caller."""

    def __init__(self, result: OperationResult, forward: OnEvent | None) -> None:
        self.result = result
        self._forward = forward
        self._lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            if event.policy_event:
                policy = event.policy_event
                self.result.policy_findings.append(
                    PolicyFinding(policy.policy_name, policy.enforcement_level, policy.message, policy.resource_urn)
                )
            pre = event.resource_pre_event
            if pre and pre.metadata:
                meta = pre.metadata
                diffs = tuple(meta.detailed_diff or ()) or tuple(meta.diffs or ())
                self.result.steps.append(Step(_op(meta), meta.urn, meta.type, diffs))
            done = event.res_outputs_event
            if done and done.metadata and _op(done.metadata) == "refresh":
                # A refresh reports drift on the finished step: state gone from the cloud, or changed.
                meta = done.metadata
                diffs = tuple(meta.detailed_diff or ()) or tuple(meta.diffs or ())
                if meta.new is None:
                    self.result.steps.append(Step("delete", meta.urn, meta.type))
                elif diffs:
                    self.result.steps.append(Step("update", meta.urn, meta.type, diffs))
            if event.summary_event:
                self.result.changes = dict(event.summary_event.resource_changes or {})
        if self._forward:
            self._forward(self.result.operation, event)


class AutomationStackRunner:
    """``StackRunner`` over ``pulumi.automation``'s ``LocalWorkspace`` (one workspace per operation)."""

    def __init__(
        self,
        repo_root: Path,
        backend: Backend,
        *,
        pulumi_command: auto.PulumiCommand | None = None,
        settings_dir: Path | None = None,
    ) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.backend = backend
        self._pulumi_command = pulumi_command
        self._command_lock = threading.Lock()
        self.settings_dir = settings_dir or self.repo_root / LOCAL_STATE_DIR / "workspace-settings"

    def ensure_cli(self) -> None:
        """Fail early, with the install command, when there is no Pulumi CLI."""
        self._command()

    # --- the protocol -----------------------------------------------------------------------------

    def preview(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        result = OperationResult(target.name, "preview")
        with self._stack(target, create=True) as stack:
            self._guarded(target, result, lambda: stack.preview(
                on_event=_EventCollector(result, on_event), **self._policy_args(target)))
        if result.mandatory_findings:
            names = ", ".join(sorted({f.policy for f in result.mandatory_findings}))
            raise StackOperationError(target.name, "preview", f"mandatory policy violation: {names}", result)
        return result

    def up(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        result = OperationResult(target.name, "up")
        with self._stack(target, create=True) as stack:
            up = self._guarded(target, result, lambda: stack.up(
                on_event=_EventCollector(result, on_event), target=list(target.only) or None,
                **self._policy_args(target)))
            result.outputs = {key: value.value for key, value in up.outputs.items()}
            if up.summary and up.summary.resource_changes:
                result.changes = dict(up.summary.resource_changes)
        return result

    def refresh_preview(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        result = OperationResult(target.name, "refresh")
        with self._stack(target, create=False) as stack:
            # `refresh --preview-only`; unlike refresh(preview_only=True) it needs no update history.
            self._guarded(target, result, lambda: stack.preview_refresh(on_event=_EventCollector(result, on_event)))
        return result

    def destroy(self, target: StackTarget, on_event: OnEvent | None = None) -> OperationResult:
        result = OperationResult(target.name, "destroy")
        with self._stack(target, create=False) as stack:
            self._guarded(target, result, lambda: stack.destroy(
                exclude_protected=True, on_event=_EventCollector(result, on_event)))
            deployment = stack.export_stack().deployment or {}
        result.remaining = [
            resource["urn"]
            for resource in deployment.get("resources") or []
            if resource.get("type") != "pulumi:pulumi:Stack"
            and not resource.get("type", "").startswith("pulumi:providers:")
        ]
        return result

    def exists(self, target: StackTarget) -> bool:
        try:
            with self._stack(target, create=False):
                return True
        except StackNotFoundError:
            return False

    def history(self, target: StackTarget) -> list[HistoryEntry]:
        try:
            with self._stack(target, create=False) as stack:
                summaries = stack.history()
        except StackNotFoundError:
            return []
        return [
            HistoryEntry(s.kind, s.result, {key: value.value for key, value in s.config.items()})
            for s in summaries
        ]

    def outputs(self, target: StackTarget) -> dict[str, Any]:
        try:
            with self._stack(target, create=False) as stack:
                return {key: value.value for key, value in stack.outputs().items()}
        except StackNotFoundError:
            return {}

    # --- helpers ---------------------------------------------------------------------------------

    def _policy_args(self, target: StackTarget) -> dict[str, list[str]]:
        """The policy pack and the config of the stack's role, for every preview and up."""
        pack = self.repo_root / "policies"
        config = policy_config_file(self.repo_root, target.role)
        if not pack.is_dir():
            raise DeployerError(f"policy pack directory {pack} is missing")
        if not config.is_file():
            raise DeployerError(
                f"stack {target.name}: policy config {config.name} is missing (generated from the stack config "
                "by the guardrail check)"
            )
        return {"policy_packs": [str(pack)], "policy_pack_configs": [str(config)]}

    def _command(self) -> auto.PulumiCommand:
        with self._command_lock:
            if self._pulumi_command is None:
                try:
                    self._pulumi_command = auto.PulumiCommand()
                except (FileNotFoundError, PermissionError) as error:
                    raise MissingPulumiCliError() from error
            return self._pulumi_command

    def _guarded(self, target: StackTarget, result: OperationResult, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except (auto_errors.CommandError, FileNotFoundError) as error:
            fault = classify_command_error(target.name, error)
            if fault is not None:
                raise fault from error
            reason = last_line(error)
            if result.mandatory_findings:
                names = ", ".join(sorted({f.policy for f in result.mandatory_findings}))
                reason = f"mandatory policy violation: {names}"
            raise StackOperationError(target.name, result.operation, reason, result) from error

    @contextmanager
    def _stack(self, target: StackTarget, *, create: bool) -> Iterator[auto.Stack]:
        with self._working_copy(target) as work_dir:
            options = auto.LocalWorkspaceOptions(
                work_dir=str(work_dir),
                env_vars={**self.backend.env, "PULUMI_SKIP_UPDATE_CHECK": "true"},
                secrets_provider=self.backend.secrets_provider,
                pulumi_command=self._command(),
            )
            try:
                if create:
                    stack = auto.create_or_select_stack(target.name, work_dir=str(work_dir), opts=options)
                else:
                    stack = auto.select_stack(target.name, work_dir=str(work_dir), opts=options)
                self._restore_secrets_provider(stack, work_dir / f"Pulumi.{target.name}.yaml")  # no-op after init
            except auto_errors.StackNotFoundError as error:
                raise StackNotFoundError(target.name) from error
            except (auto_errors.CommandError, FileNotFoundError) as error:
                fault = classify_command_error(target.name, error)
                raise fault or DeployerError(f"stack {target.name}: {last_line(error)}") from error
            for key, value in target.config.items():
                stack.set_config(key, auto.ConfigValue(value=value))
            yield stack

    @staticmethod
    def _restore_secrets_provider(stack: auto.Stack, stack_file: Path) -> None:
        """Put the stack's secrets-provider fields back into the working copy when none are saved.

        A fresh CI runner has no ``workspace-settings``; the stack's state records its secrets
        provider, and ``stack export`` without ``--show-secrets`` reads it without decrypting.
        """
        settings = (yaml.safe_load(stack_file.read_text()) or {}) if stack_file.is_file() else {}
        if any(key in settings for key in SECRETS_PROVIDER_KEYS):
            return
        workspace = stack.workspace
        exported = workspace.pulumi_command.run(
            ["stack", "export", "--stack", stack.name], workspace.work_dir, dict(workspace.env_vars))
        fields = secrets_fields_from_state((json.loads(exported.stdout).get("deployment") or {}).get("secrets_providers"))
        if fields:
            stack_file.write_text(yaml.safe_dump({**settings, **fields}, sort_keys=False))

    @contextmanager
    def _working_copy(self, target: StackTarget) -> Iterator[Path]:
        """A temporary project directory for one operation; the committed files are only read."""
        project_dir = Path(target.project_dir).resolve()
        project_file = project_dir / "Pulumi.yaml"
        if not project_file.is_file():
            raise DeployerError(f"{project_file} is missing")
        project = yaml.safe_load(project_file.read_text()) or {}
        work_dir = Path(tempfile.mkdtemp(prefix=f"mlops-{target.name}-"))
        stack_file = work_dir / f"Pulumi.{target.name}.yaml"
        try:
            # Pulumi.yaml and the stack file are real copies (the CLI writes them); everything else
            # (program, virtualenv, organization.yaml, policies) is linked, so `main` and relative
            # paths resolve exactly as in the repository.
            for entry in project_dir.iterdir():
                if not (entry.name.startswith("Pulumi.") and entry.suffix in (".yaml", ".yml")):
                    (work_dir / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
            venv = ((project.get("runtime") or {}).get("options") or {}).get("virtualenv") \
                if isinstance(project.get("runtime"), dict) else None
            if venv and not Path(venv).is_absolute():
                # A virtualenv outside the project (serving/ uses ../.venv) would not resolve from the copy.
                project["runtime"]["options"]["virtualenv"] = str((project_dir / venv).resolve())
                (work_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
            else:
                shutil.copyfile(project_file, work_dir / "Pulumi.yaml")

            committed = project_dir / f"Pulumi.{target.name}.yaml"
            settings = yaml.safe_load(committed.read_text()) if committed.is_file() else {}
            settings = settings or {}
            if not committed.is_file():
                # A model project's stack (exp.<project>) has no file: its config derives from its
                # account stack's, which the working copy does not hold.
                derived = derived_project_stack_config(target.name, project_dir)
                if derived is not None:
                    settings["config"] = derived
            saved = self._saved_settings(target, project.get("name", "project"))
            for key in SECRETS_PROVIDER_KEYS:
                if key in saved and key not in settings:
                    settings[key] = saved[key]
            if settings:
                stack_file.write_text(yaml.safe_dump(settings, sort_keys=False))
            yield work_dir
        finally:
            # Saved even when the operation failed: `stack init` may already have written them.
            self._save_settings(target, project.get("name", "project"), stack_file)
            shutil.rmtree(work_dir, ignore_errors=True)  # removes the links, never what they point to

    def _settings_path(self, target: StackTarget, project_name: str) -> Path:
        return self.settings_dir / project_name / f"Pulumi.{target.name}.yaml"

    def _saved_settings(self, target: StackTarget, project_name: str) -> dict[str, Any]:
        path = self._settings_path(target, project_name)
        return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}

    def _save_settings(self, target: StackTarget, project_name: str, stack_file: Path) -> None:
        if not stack_file.is_file():
            return
        written = yaml.safe_load(stack_file.read_text()) or {}
        keep = {key: written[key] for key in SECRETS_PROVIDER_KEYS if key in written}
        if keep:
            path = self._settings_path(target, project_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(keep, sort_keys=False))


def secrets_fields_from_state(provider: Mapping[str, Any] | None) -> dict[str, str]:
    """Stack-file fields for the secrets provider a deployment records (``secrets_providers``).

    ``passphrase`` keeps its salt; ``cloud`` (awskms://, ...) its URL and encrypted data key; Pulumi
    Cloud's ``service`` provider needs nothing in the stack file.
    """
    if not provider:
        return {}
    state = provider.get("state") or {}
    if provider.get("type") == "passphrase" and state.get("salt"):
        return {"encryptionsalt": state["salt"]}
    if provider.get("type") == "cloud" and state.get("url") and state.get("encryptedkey"):
        return {"secretsprovider": state["url"], "encryptedkey": state["encryptedkey"]}
    return {}


class StackNotFoundError(DeployerError):
    """The stack does not exist on the backend (drift, destroy and rollback need an existing stack)."""

    def __init__(self, stack: str) -> None:
        super().__init__(f"stack {stack} does not exist on this backend (deploy it first)")
