"""Faults the deployer reports as one clear line with exit code 2 (bad input or environment).

Everything else that goes wrong in a stack (a failed ``up``, a mandatory policy violation) is a
*stack* failure: it is shown in the closing table, skips the dependents and gives exit code 1.
"""

from __future__ import annotations

import re

from pulumi.automation import errors as auto_errors

PULUMI_INSTALL_COMMAND = "curl -fsSL https://get.pulumi.com | sh"

#: Exit codes shared by all commands (see the CLI's conventions).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class DeployerError(Exception):
    """A fault that stops the whole command: one line, exit code ``exit_code``."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StackLockedError(DeployerError):
    """Another update holds the stack's lock."""


class MissingPassphraseError(DeployerError):
    """The local backend's passphrase secrets provider has no passphrase."""


class MissingCredentialsError(DeployerError):
    """No AWS credentials (or no Pulumi Cloud token) where the backend or the providers need them."""


class MissingPulumiCliError(DeployerError):
    """The ``pulumi`` executable is not installed."""

    def __init__(self) -> None:
        super().__init__(
            f"the Pulumi CLI is not installed (or not on PATH): install it with `{PULUMI_INSTALL_COMMAND}`"
        )


class RefusedError(DeployerError):
    """A gate refused the operation (unapproved model package, PROD destroy without confirmation)."""

    exit_code = EXIT_FAILED


_PASSPHRASE = re.compile(r"passphrase must be set|PULUMI_CONFIG_PASSPHRASE|incorrect passphrase", re.I)
_CREDENTIALS = re.compile(
    r"no valid credential sources|NoCredentialProviders|unable to locate credentials|"
    r"ExpiredToken|InvalidClientTokenId|could not load credentials|PULUMI_ACCESS_TOKEN",
    re.I,
)
_LOCKED = re.compile(r"currently locked by|Another update is currently in progress", re.I)


def classify_command_error(stack: str, error: BaseException) -> DeployerError | None:
    """Turn a Pulumi CLI failure into a one-line fault, or ``None`` if it is an ordinary stack failure."""
    if isinstance(error, FileNotFoundError):
        return MissingPulumiCliError()
    if not isinstance(error, auto_errors.CommandError):
        return None
    text = str(error)
    if isinstance(error, auto_errors.ConcurrentUpdateError) or _LOCKED.search(text):
        return StackLockedError(
            f"stack {stack} is locked by another update; wait for it to finish, or, if it crashed, "
            f"run `pulumi cancel --stack {stack}` (Pulumi Cloud) or `pulumi stack export`/`import` "
            "after removing the lock file (file and S3 backends)"
        )
    if _PASSPHRASE.search(text):
        return MissingPassphraseError(
            f"stack {stack}: the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE "
            "(or PULUMI_CONFIG_PASSPHRASE_FILE) set to the right passphrase"
        )
    if _CREDENTIALS.search(text):
        return MissingCredentialsError(
            f"stack {stack}: no usable credentials; configure AWS credentials (e.g. `aws sso login`, or the "
            "CI's OIDC role) for the state backend and the deploy roles"
        )
    return None


def last_line(error: BaseException) -> str:
    """The most telling single line of a CLI failure (its last ``error:`` line), for the closing table."""
    lines = []
    for line in str(error).splitlines():
        line = line.strip()
        for prefix in ("stdout:", "stderr:"):
            if line.startswith(prefix):
                line = line[len(prefix):].strip()
        if line and not line.startswith("code:"):
            lines.append(line)
    errors = [line for line in lines if line.lower().startswith("error")]
    if errors:
        return errors[-1]
    return lines[-1] if lines else type(error).__name__
