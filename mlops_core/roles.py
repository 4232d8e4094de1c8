"""Account roles, stages and personas: every list of them in the platform comes from here."""

from __future__ import annotations

from typing import Literal

#: The workload accounts, each with one platform stack (``data`` is optional).
ACCOUNT_ROLES: tuple[str, ...] = ("data", "exp", "res", "dev", "int", "prod")
#: The optional ``identity`` stack runs in the management (or delegated-administrator) account with
#: IAM Identity Center; it is not a workload account and gets no VPC or baseline.
IDENTITY_ROLE = "identity"
#: The optional ``log-archive`` stack runs in ``accounts.logArchive`` and holds the audit archive
#: (bucket and key) every account's CloudTrail and AWS Config deliver to; no VPC or baseline either.
LOG_ARCHIVE_ROLE = "log-archive"
#: Stacks that are not workload accounts: no VPC, no account baseline.
STANDALONE_ROLES: tuple[str, ...] = (IDENTITY_ROLE, LOG_ARCHIVE_ROLE)
#: Every role a stack file may name, in deploy order (identity, log-archive and data first, the stages last).
STACK_ROLES: tuple[str, ...] = (IDENTITY_ROLE, LOG_ARCHIVE_ROLE, *ACCOUNT_ROLES)
#: The serving stages, in promotion order.
STAGES: tuple[str, ...] = ("dev", "int", "prod")
#: Stages a model version reaches only through a manual approval.
APPROVAL_STAGES: tuple[str, ...] = ("int", "prod")

AccountRole = Literal["data", "exp", "res", "dev", "int", "prod", "identity", "log-archive"]
Stage = Literal["dev", "int", "prod"]

#: Personas of data scientists (a Studio user profile and execution role each).
SCIENTIST_PERSONAS: tuple[str, ...] = ("lead", "scientist", "ml_engineer")
#: Personas of people who are not data scientists; each gets a sign-in role per account.
OPERATOR_PERSONAS: tuple[str, ...] = ("devops", "platform_admin", "auditor")
PERSONAS: tuple[str, ...] = (*SCIENTIST_PERSONAS, *OPERATOR_PERSONAS)
Persona = Literal["lead", "scientist", "ml_engineer"]
OperatorPersona = Literal["devops", "platform_admin", "auditor"]
AnyPersona = Literal["lead", "scientist", "ml_engineer", "devops", "platform_admin", "auditor"]
