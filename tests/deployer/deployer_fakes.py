"""A stand-in for the Pulumi CLI, driven by the real ``pulumi.automation`` LocalWorkspace and Stack.

``RecordingPulumiCommand`` subclasses ``PulumiCommand`` without calling its ``__init__`` (which would
shell out to ``pulumi version``) and overrides ``run``: it records every invocation (argv, cwd, env) and
answers the way the CLI does, against an in-memory ``FakeBackend`` that outlives one command run (like
``.pulumi-state``). Like the real CLI it writes into the stack file in its working directory:
``stack init`` adds the secrets provider's fields and ``config set`` adds keys, so a deployer that ran
in the repository itself would change the committed files. Version 3.200.0 makes the Automation API
use a file event log; each operation writes its engine events there and ends with a cancel event,
as the engine does.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass
class Call:
    """One recorded CLI invocation."""

    args: list[str]
    cwd: str
    env: dict[str, str]
    program: Path | None = None
    """For preview and up: the program directory the CLI resolved from Pulumi.yaml's ``main``."""

    @property
    def verb(self) -> str:
        """``preview``, ``up``, ``refresh``, ``destroy``, ``stack select``, ``config set`` ..."""
        words = [a for a in self.args if not a.startswith("-")]
        return " ".join(words[:2]) if words and words[0] in ("stack", "config") else (words[0] if words else "")

    @property
    def stack(self) -> str | None:
        if "--stack" in self.args:
            return self.args[self.args.index("--stack") + 1]
        if self.args[:2] == ["stack", "init"]:
            return self.args[2]
        return None

    def values(self, flag: str) -> list[str]:
        return [self.args[i + 1] for i, arg in enumerate(self.args[:-1]) if arg == flag]


@dataclass
class FakeStack:
    project: str
    name: str
    history: list[dict[str, Any]] = field(default_factory=list)  # newest first
    outputs: dict[str, Any] = field(default_factory=dict)
    deployed_config: dict[str, str] | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    """Secrets-provider fields `stack init` wrote; every later command needs them in the stack file."""


@dataclass
class Behaviour:
    """What the fake CLI does per stack (names are stack names)."""

    violations: dict[str, list[str]] = field(default_factory=dict)
    """Stack -> mandatory policies its preview violates."""
    advisories: dict[str, list[str]] = field(default_factory=dict)
    fail_up: set[str] = field(default_factory=set)
    fail_preview: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)
    drift: dict[str, int] = field(default_factory=dict)
    """Stack -> number of resources a refresh finds changed in the cloud."""
    vanished: dict[str, int] = field(default_factory=dict)
    """Stack -> number of resources (counted from the last) a refresh finds deleted in the cloud."""
    preview_steps: dict[str, Any] = field(default_factory=dict)
    """Stack -> step metadata for resourcePreEvents of its previews, or a function of the stack config."""
    protected: dict[str, list[str]] = field(default_factory=dict)
    """Stack -> URNs of protected resources a destroy with --exclude-protected leaves."""
    resource_count: int = 5
    up_delay: dict[str, float] = field(default_factory=dict)
    """Stack -> seconds an up takes (to observe parallel ups)."""


class FakeBackend:
    """Stack state shared by every command run of a test (what ``.pulumi-state`` holds)."""

    def __init__(self) -> None:
        self.stacks: dict[tuple[str, str], FakeStack] = {}

    def deployed(self, project: str, name: str, config: Mapping[str, str] | None = None, outputs=None) -> FakeStack:
        """Mark a stack as already deployed (a previous run)."""
        stack = self.stacks.setdefault((project, name), FakeStack(project, name))
        stack.deployed_config = dict(config or {})
        stack.outputs = dict(outputs or {})
        stack.history.insert(0, _history_entry("update", "succeeded", {k: v for k, v in (config or {}).items()}))
        return stack


def _history_entry(kind: str, result: str, config: Mapping[str, str], changes: Mapping[str, int] | None = None):
    now = datetime.now(timezone.utc).strftime(_TIME)
    return {"kind": kind, "startTime": now, "endTime": now, "message": "", "environment": {}, "result": result,
            "config": {key: {"value": value, "secret": False} for key, value in config.items()},
            "resourceChanges": dict(changes or {})}


class RecordingPulumiCommand(PulumiCommand):
    """The stand-in CLI; ``calls`` holds every invocation in order."""

    def __init__(self, backend: FakeBackend | None = None, behaviour: Behaviour | None = None) -> None:
        # No super().__init__(): it would run `pulumi version`.
        self.command = "pulumi"
        self.version = VersionInfo.parse("3.200.0")
        self.backend = backend or FakeBackend()
        self.behaviour = behaviour or Behaviour()
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.active_stacks: list[set[str]] = []

    # --- helpers for assertions -----------------------------------------------------------------

    def ops(self, *verbs: str) -> list[tuple[str, str | None]]:
        """(verb, stack) of the recorded calls whose verb is in ``verbs``."""
        return [(c.verb, c.stack) for c in self.calls if c.verb in verbs]

    # --- the CLI --------------------------------------------------------------------------------

    def run(self, args, cwd, additional_env, on_output=None, on_error=None) -> CommandResult:
        call = Call(list(args), cwd, dict(additional_env))
        with self._lock:
            self.calls.append(call)
        try:
            stdout = self._dispatch(call)
        except _CliFailure as failure:
            result = CommandResult(stdout=failure.stdout, stderr=failure.stderr, code=255)
            raise create_command_error(result) from None
        return CommandResult(stdout=stdout, stderr="", code=0)

    def _dispatch(self, call: Call) -> str:
        args, verb = call.args, call.verb
        project = (yaml.safe_load((Path(call.cwd) / "Pulumi.yaml").read_text()) or {}).get("name", "project")
        name = call.stack
        key = (project, name)
        if verb == "stack init":
            if key in self.backend.stacks:
                raise _CliFailure(stderr=f"error: stack '{name}' already exists")
            provider = call.values("--secrets-provider")
            self._check_passphrase(call, provider[0] if provider else "passphrase")
            self.backend.stacks[key] = FakeStack(project, name)
            self.backend.stacks[key].secrets = self._write_secrets_provider(call, provider[0] if provider else "passphrase")
            return ""
        if key not in self.backend.stacks:
            raise _CliFailure(stderr=f"error: no stack named '{name}' found")
        stack = self.backend.stacks[key]
        if verb == "stack select":
            return ""
        if not (verb == "stack export" and "--show-secrets" not in args):
            self._check_secrets_provider(call, stack)
        if verb == "config set":
            value = args[args.index("--") + 1]
            self._set_config(call, args[2], value)
            return ""
        if verb == "stack output":
            return json.dumps(stack.outputs)
        if verb == "stack history":
            history = stack.history
            if "--page-size" in args:
                history = history[: int(call.values("--page-size")[0])]
            return json.dumps(history)
        if verb == "stack export":
            return json.dumps({"version": 3, "deployment": {"resources": stack.resources,
                                                            "secrets_providers": self._secrets_state(stack)}})
        if verb in ("preview", "up", "refresh", "destroy"):
            if name in self.behaviour.locked:
                self._events(call, [])
                raise _CliFailure(stderr=f"error: the stack is currently locked by 1 lock(s). Either wait for the "
                                         f"other process(es) to end or delete the lock file with `pulumi cancel`.")
            self._check_passphrase(call, "passphrase")
            if verb in ("preview", "up"):
                self._resolve_program(call)
            return getattr(self, f"_{verb}")(call, stack)
        raise AssertionError(f"the fake CLI does not know {args}")

    def _resolve_program(self, call: Call) -> None:
        """As the CLI: the program is ``main`` joined to the project directory; it must exist."""
        project = yaml.safe_load((Path(call.cwd) / "Pulumi.yaml").read_text()) or {}
        program = Path(call.cwd) / str(project.get("main") or ".")
        if not (program / "__main__.py").is_file():
            self._events(call, [])
            raise _CliFailure(stderr=f"error: the program {program} has no __main__.py")
        call.program = program.resolve()
        runtime = project.get("runtime")
        venv = ((runtime.get("options") or {}).get("virtualenv")) if isinstance(runtime, dict) else None
        if venv and not (Path(call.cwd) / venv).is_dir():  # an absolute path replaces cwd in the join
            raise _CliFailure(stderr=f"error: the virtualenv {venv} does not exist")

    def _check_passphrase(self, call: Call, provider: str) -> None:
        env = call.env
        if provider == "passphrase" and not (env.get("PULUMI_CONFIG_PASSPHRASE") or env.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
            import os

            if not (os.environ.get("PULUMI_CONFIG_PASSPHRASE") or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
                raise _CliFailure(stderr="error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
                                         "PULUMI_CONFIG_PASSPHRASE_FILE environment variables")

    def _stack_file(self, call: Call) -> Path:
        return Path(call.cwd) / f"Pulumi.{call.stack}.yaml"

    def _read_stack_file(self, call: Call) -> dict[str, Any]:
        path = self._stack_file(call)
        return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}

    def _write_secrets_provider(self, call: Call, provider: str) -> dict[str, str]:
        """As the CLI: `stack init` records the secrets provider in the stack file of the working dir."""
        settings = self._read_stack_file(call)
        if provider == "passphrase":
            fields = {"encryptionsalt": f"v1:{secrets.token_hex(8)}"}
        else:
            fields = {"secretsprovider": provider, "encryptedkey": secrets.token_hex(16)}
        self._stack_file(call).write_text(yaml.safe_dump({**settings, **fields}))
        return fields

    @staticmethod
    def _secrets_state(stack: FakeStack) -> dict[str, Any] | None:
        """The deployment's ``secrets_providers`` record, as the state file keeps it."""
        if "encryptionsalt" in stack.secrets:
            return {"type": "passphrase", "state": {"salt": stack.secrets["encryptionsalt"]}}
        if "encryptedkey" in stack.secrets:
            return {"type": "cloud", "state": {"url": stack.secrets["secretsprovider"],
                                               "encryptedkey": stack.secrets["encryptedkey"]}}
        return None

    def _check_secrets_provider(self, call: Call, stack: FakeStack) -> None:
        """Without its secrets-provider fields the stack file cannot open the stack's secrets."""
        if not stack.secrets:
            return
        written = {key: value for key, value in self._read_stack_file(call).items() if key in stack.secrets}
        if written != stack.secrets:
            self._events(call, [])
            raise _CliFailure(stderr=f"error: stack {stack.name}: the stack file's secrets provider does not match "
                                     "the stack's (missing encryptionsalt or encryptedkey)")

    def _set_config(self, call: Call, key: str, value: str) -> None:
        settings = self._read_stack_file(call)
        settings.setdefault("config", {})[key] = value
        self._stack_file(call).write_text(yaml.safe_dump(settings))

    def _config(self, call: Call) -> dict[str, str]:
        config = self._read_stack_file(call).get("config") or {}
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}

    def _events(self, call: Call, events: list[dict[str, Any]]) -> None:
        """Write engine events to the --event-log file and end with the cancel event."""
        if "--event-log" not in call.args:
            return
        path = call.values("--event-log")[0]
        with open(path, "a", encoding="utf-8") as log:
            for sequence, event in enumerate([*events, {"cancelEvent": {}}]):
                log.write(json.dumps({"sequence": sequence, "timestamp": int(time.time()), **event}) + "\n")

    def _policy_events(self, call: Call) -> list[dict[str, Any]]:
        name = call.stack
        events = []
        for level, policies in (("mandatory", self.behaviour.violations.get(name, [])),
                                ("advisory", self.behaviour.advisories.get(name, []))):
            for policy in policies:
                events.append({"policyEvent": {
                    "message": f"{policy} violated", "color": "never", "policyName": policy,
                    "policyPackName": "mlops-guard", "policyPackVersion": "1.0.0", "policyPackVersionTag": "1.0.0",
                    "enforcementLevel": level, "resourceUrn": f"urn:pulumi:{name}::p::aws:s3/bucket:Bucket::b"}})
        return events

    def _changes(self, call: Call, stack: FakeStack) -> dict[str, int]:
        count = self.behaviour.resource_count
        if stack.deployed_config is None:
            return {"create": count}
        if self._config(call) != stack.deployed_config:
            return {"update": 1, "same": count - 1}
        return {"same": count}

    def _preview(self, call: Call, stack: FakeStack) -> str:
        policy = self._policy_events(call)
        planned = self.behaviour.preview_steps.get(stack.name, [])
        planned = planned(self._config(call)) if callable(planned) else planned
        steps = [{"resourcePreEvent": {"metadata": meta}} for meta in planned]
        if stack.name in self.behaviour.fail_preview or stack.name in self.behaviour.violations:
            self._events(call, policy)
            raise _CliFailure(stdout="error: preview failed", stderr="error: preview failed")
        self._events(call, [*steps, *policy, {"summaryEvent": {"resourceChanges": self._changes(call, stack)}}])
        return "preview ok"

    def _up(self, call: Call, stack: FakeStack) -> str:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.behaviour.up_delay.get(stack.name, 0.0))
            changes = self._changes(call, stack)
            config = self._config(call)
            if stack.name in self.behaviour.fail_up:
                stack.history.insert(0, _history_entry("update", "failed", config, changes))
                self._events(call, [{"diagnosticEvent": {"message": "creating bucket: AccessDenied", "color": "never",
                                                         "severity": "error"}}])
                raise _CliFailure(stdout="error: update failed", stderr="error: update failed")
            stack.deployed_config = config
            stack.outputs = {"stackName": stack.name, **{k.split(":")[-1]: v for k, v in config.items()}}
            stack.resources = [{"urn": f"urn:pulumi:{stack.name}::{stack.project}::aws:s3/bucket:Bucket::b{i}",
                                "type": "aws:s3/bucket:Bucket"} for i in range(self.behaviour.resource_count)]
            stack.history.insert(0, _history_entry("update", "succeeded", config, changes))
            self._events(call, [*self._policy_events(call), {"summaryEvent": {"resourceChanges": changes}}])
            return "update ok"
        finally:
            with self._lock:
                self.active -= 1

    def _refresh(self, call: Call, stack: FakeStack) -> str:
        assert "--preview-only" in call.args, "the deployer must never refresh for real"
        drifted = self.behaviour.drift.get(stack.name, 0)
        events = []
        for i in range(self.behaviour.resource_count):
            urn = f"urn:pulumi:{stack.name}::{stack.project}::aws:s3/bucket:Bucket::b{i}"
            meta = {"op": "refresh", "urn": urn, "type": "aws:s3/bucket:Bucket", "provider": ""}
            state = {"type": "aws:s3/bucket:Bucket", "urn": urn, "custom": True, "delete": False, "id": f"b{i}",
                     "parent": "", "protect": False, "inputs": {}, "outputs": {}, "provider": ""}
            # As the engine: every resource gets a refresh step; a changed one finishes with its diffs.
            events.append({"resourcePreEvent": {"metadata": {**meta, "old": state, "new": state}}})
            done = {**meta, "old": state, "new": state, "diffs": ["tags"] if i < drifted else []}
            if i >= self.behaviour.resource_count - self.behaviour.vanished.get(stack.name, 0):
                done = {**meta, "old": state}  # gone from the cloud: no new state
            events.append({"resOutputsEvent": {"metadata": done}})
        gone = self.behaviour.vanished.get(stack.name, 0)
        changes = {"update": drifted, "delete": gone, "same": self.behaviour.resource_count - drifted - gone}
        self._events(call, [*events, {"summaryEvent": {"resourceChanges": {k: v for k, v in changes.items() if v}}}])
        return "refresh ok"

    def _destroy(self, call: Call, stack: FakeStack) -> str:
        assert "--exclude-protected" in call.args
        kept = self.behaviour.protected.get(stack.name, [])
        deleted = len(stack.resources) - len(kept)
        stack.resources = [{"urn": urn, "type": urn.split("::")[2], "protect": True} for urn in kept]
        stack.deployed_config = None
        stack.history.insert(0, _history_entry("destroy", "succeeded", self._config(call), {"delete": deleted}))
        self._events(call, [{"summaryEvent": {"resourceChanges": {"delete": deleted}}}])
        return "destroy ok"


class _CliFailure(Exception):
    def __init__(self, stdout: str = "", stderr: str = "") -> None:
        super().__init__(stderr)
        self.stdout, self.stderr = stdout, stderr
