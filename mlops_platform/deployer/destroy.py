"""``destroy``: remove a stack's resources, except the protected ones, and say what is left.

- A PROD stack (by role, so ``prod-eu`` too) is refused unless ``--confirm prod``.
- What blocks deletion is emptied first: a SageMaker Studio domain cannot be deleted while it has
  apps, spaces or user profiles, and users create those outside Pulumi; so for the EXP stack the
  domain named by its ``studioDomainId`` output is emptied with boto3 (apps, then spaces, then
  profiles, waiting for each to go).
- The destroy runs with ``exclude_protected``: data-bearing buckets and keys are ``protect``ed and
  stay. Whatever remains is listed and the command exits non-zero, since the stack is not gone.
- The Lake Formation data lake settings of the DATA and EXP stacks are kept, and the destroy says
  so (:data:`LAKE_FORMATION_KEPT`): the provider's delete would write empty admins and cross-account
  version 1, silently removing every administrator, so the resource is protected and retained on
  delete (``components/lake_formation.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_platform.deployer.errors import DeployerError
from mlops_platform.deployer.progress import Progress
from mlops_platform.deployer.runner import StackOperationError, StackRunner, StackTarget

STUDIO_DOMAIN_OUTPUT = "studioDomainId"
#: Stack roles that declare Lake Formation data lake settings.
LAKE_FORMATION_ROLES = ("data", "exp")
LAKE_FORMATION_KEPT = (
    "Lake Formation settings are kept: the account's data lake administrators, cross-account version and "
    "default permissions stay as the stack set them (reset them with `aws lakeformation put-data-lake-settings` "
    "only when retiring the account)"
)
_GONE = ("Deleted", "Failed")


class StudioCleaner:
    """Deletes what users created in a Studio domain, so that the domain itself can be destroyed."""

    def __init__(self, sagemaker: Any, *, sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 10,
                 max_polls: int = 90) -> None:
        self.sagemaker, self.sleep, self.poll_seconds, self.max_polls = sagemaker, sleep, poll_seconds, max_polls

    def _list(self, operation: str, key: str, domain_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.sagemaker.get_paginator(operation).paginate(DomainIdEquals=domain_id):
            items.extend(page.get(key, []))
        return [item for item in items if item.get("Status") not in _GONE]

    def _wait(self, operation: str, key: str, domain_id: str) -> None:
        for _ in range(self.max_polls):
            if not self._list(operation, key, domain_id):
                return
            self.sleep(self.poll_seconds)
        raise DeployerError(f"Studio domain {domain_id}: {key} still present after waiting; retry the destroy later")

    def empty_domain(self, domain_id: str) -> list[str]:
        """Delete apps, spaces and user profiles of the domain; returns what was deleted."""
        deleted: list[str] = []
        for app in self._list("list_apps", "Apps", domain_id):
            if app.get("Status") == "Deleting":
                continue
            owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {"UserProfileName": app["UserProfileName"]}
            self.sagemaker.delete_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
            deleted.append(f"app {app['AppType']}/{app['AppName']}")
        self._wait("list_apps", "Apps", domain_id)
        for space in self._list("list_spaces", "Spaces", domain_id):
            if space.get("Status") != "Deleting":
                self.sagemaker.delete_space(DomainId=domain_id, SpaceName=space["SpaceName"])
                deleted.append(f"space {space['SpaceName']}")
        self._wait("list_spaces", "Spaces", domain_id)
        for profile in self._list("list_user_profiles", "UserProfiles", domain_id):
            if profile.get("Status") != "Deleting":
                self.sagemaker.delete_user_profile(DomainId=domain_id, UserProfileName=profile["UserProfileName"])
                deleted.append(f"user profile {profile['UserProfileName']}")
        self._wait("list_user_profiles", "UserProfiles", domain_id)
        return deleted


@dataclass
class DestroyOutcome:
    stack: str
    emptied: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    """URNs left in the stack (protected resources)."""
    kept: list[str] = field(default_factory=list)
    """What the destroy deliberately leaves in the account, in words (Lake Formation settings)."""


def check_confirmation(target: StackTarget, confirm: str | None) -> None:
    """Refuse a PROD stack without ``--confirm prod``, and a ``--confirm`` naming another role."""
    if target.role == "prod" and confirm != "prod":
        raise DeployerError(f"stack {target.name} is a PROD stack: destroying it needs --confirm prod")
    if confirm is not None and confirm != target.role:
        raise DeployerError(f"--confirm {confirm}: stack {target.name} has role {target.role}")


def destroy_stack(
    target: StackTarget,
    *,
    confirm: str | None,
    runner: StackRunner,
    progress: Progress,
    sagemaker_client: Callable[[], Any] | None = None,
) -> DestroyOutcome:
    """Destroy one stack as described in the module docstring."""
    check_confirmation(target, confirm)
    outcome = DestroyOutcome(target.name)
    progress.register([target.name])
    if target.role == "exp":
        domain_id = runner.outputs(target).get(STUDIO_DOMAIN_OUTPUT)
        if domain_id and sagemaker_client is not None:
            progress.state(target.name, "empty", "emptying", f"Studio domain {domain_id}")
            outcome.emptied = StudioCleaner(sagemaker_client()).empty_domain(domain_id)
    progress.state(target.name, "destroy", "destroying")
    try:
        result = runner.destroy(target, lambda op, event: progress.engine_event(target.name, op, event))
    except StackOperationError as error:
        progress.state(target.name, "destroy", "failed", error.reason)
        raise
    progress.result(target.name, result)
    outcome.remaining = result.remaining
    outcome.kept = [LAKE_FORMATION_KEPT] if target.role in LAKE_FORMATION_ROLES else []
    if outcome.remaining:
        reason = "; ".join([f"{len(outcome.remaining)} protected resource(s) remain", *outcome.kept])
        progress.state(target.name, "destroy", "failed", reason)
    else:
        progress.state(target.name, "destroy", "succeeded", "; ".join(outcome.kept))
    return outcome
