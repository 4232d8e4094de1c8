"""A small repository on disk for the deployer tests (platform project, stacks, policies, serving/)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlops_platform.deployer.runner import StackTarget

ROLES = ("data", "exp", "res", "dev", "int", "prod")


def write_repo(root: Path, stacks: dict[str, str]) -> Path:
    """A repository with the platform project, the given stacks (name -> role), policies and serving/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "mlops-platform", "main": "platform/",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}},
    }))
    (root / ".venv").mkdir(exist_ok=True)
    (root / "platform").mkdir(exist_ok=True)
    (root / "platform" / "__main__.py").write_text("# program\n")
    for name, role in stacks.items():
        (root / f"Pulumi.{name}.yaml").write_text(
            f"# Stack {name!r}: committed, reviewed, no secrets.\nconfig:\n  mlops:role: {role}\n"
        )
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.0.0\n")
    (root / "policies" / "config").mkdir(exist_ok=True)
    for role in ROLES:
        (root / f"policies/config/{role}.json").write_text('{"all": "mandatory"}\n')
    serving = root / "serving"
    serving.mkdir(exist_ok=True)
    # As the real serving/Pulumi.yaml: the program is the project directory, the virtualenv the repo's.
    (serving / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "mlops-serving", "main": ".",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}},
    }))
    (serving / "__main__.py").write_text("# serving program\n")
    return root


def platform_targets(repo: Path, stacks: dict[str, str]) -> dict[str, StackTarget]:
    return {name: StackTarget(name, role, repo) for name, role in stacks.items()}
