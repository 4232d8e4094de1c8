"""Moving a deployed EXP stack's model projects into their own stacks (pure; tested without Pulumi).

Before the projects' stacks existed, the EXP stack held every project's resources. Splitting it must
keep every cloud resource: ``pulumi state move`` rewrites the state of both stacks, and the aliases
in the program (``ProjectIdentity``, ``RoleGuardrails``) match what the moves leave behind. Per
project, three moves, in this order:

1. from EXP to the project's stack: the ``ModelProject`` component (with its children: key, bucket,
   registry group, rule, SDK config object, and, for now, the role and jobs group), the build
   pipeline, the Athena workgroup, and the role's network guardrail policy and attachments (children
   of the account's guardrails, so they land at the stack's root);
2. back to EXP: the role and jobs group (with the role's inline policies, its children), which land
   at EXP's root, where the ``ProjectIdentity`` alias finds them;
3. to the project's stack again: the role's two inline policies, which land at its root, as the
   project stack declares them.

Then ``mlops-platform deploy`` (exp first, then the projects' stacks) shows no replacement. It
deletes one kind of resource on purpose: each project's managed query policy for its members
(``exp-data-access-<project>-members`` and its attachments), whose statements the members'
project-access policies now hold (the same exp update writes them).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from mlops_core.config import OrganizationConfig, project_stack_name
from mlops_platform.deployer.graph import PLATFORM_PROJECT


@dataclass(frozen=True)
class StateMove:
    """One ``pulumi state move`` invocation."""

    source: str
    dest: str
    urns: tuple[str, ...]

    def command(self) -> str:
        return " ".join(["pulumi state move --yes", f"--source {shlex.quote(self.source)}",
                         f"--dest {shlex.quote(self.dest)}", *(shlex.quote(u) for u in self.urns)])


def _urn(stack: str, type_chain: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PLATFORM_PROJECT}::{type_chain}::{name}"


def project_state_moves(org: OrganizationConfig, project: str, account_stack: str = "exp") -> list[StateMove]:
    """The three moves that split ``project`` out of ``account_stack`` (see the module docstring)."""
    dest = project_stack_name(account_stack, project)
    config = org.project(project)
    guardrails = "mlops:guardrails:SageMakerGuardrails"
    first = [
        _urn(account_stack, "mlops:project:ModelProject", f"exp-{project}"),
        _urn(account_stack, "mlops:pipelines:ModelBuildPipeline", f"exp-{project}-build"),
        _urn(account_stack, f"{guardrails}$aws:iam/policy:Policy", f"exp-guardrails-sagemaker-deny-network-project-{project}"),
        *(_urn(account_stack, f"{guardrails}$aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"exp-{project}-role-{kind}")
          for kind in ("sagemaker-deny-network", "sagemaker-deny-encryption")),
    ]
    role_policies = [f"exp-{project}-role-policy"]
    if org.has_data_account and org.data_sets and config.data_access:
        first.append(_urn(account_stack, "aws:athena/workgroup:Workgroup", f"exp-athena-{project}"))
        role_policies.append(f"exp-data-access-{project}")
    back = [
        _urn(dest, "mlops:project:ModelProject$aws:iam/role:Role", f"exp-{project}-role"),
        _urn(dest, "mlops:project:ModelProject$aws:ec2/securityGroup:SecurityGroup", f"exp-{project}-jobs-sg"),
    ]
    again = [_urn(account_stack, "aws:iam/role:Role$aws:iam/rolePolicy:RolePolicy", name) for name in role_policies]
    return [
        StateMove(account_stack, dest, tuple(first)),
        StateMove(dest, account_stack, tuple(back)),
        StateMove(account_stack, dest, tuple(again)),
    ]


def state_move_script(org: OrganizationConfig, account_stack: str = "exp") -> str:
    """A shell script of every project's moves (run once, on a backend holding the unsplit stack)."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Split the model projects out of the {account_stack} stack (docs/exp.md, \"Upgrading to project stacks\").",
        "set -euo pipefail",
    ]
    for project in org.model_projects:
        dest = project_stack_name(account_stack, project.name)
        # The deployer creates the stack with the backend's secrets provider (a preview changes nothing).
        lines += ["", f"# {project.name}", f"mlops-platform deploy --preview-only --stack {shlex.quote(dest)} --yes"]
        lines += [move.command() for move in project_state_moves(org, project.name, account_stack)]
    return "\n".join(lines) + "\n"
