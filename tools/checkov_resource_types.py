"""Write tests/policies/fixtures/checkov_resource_types.json: the Terraform resource types each
checkov AWS check inspects, read from checkov's own source (a git checkout of bridgecrewio/checkov).

checkov is not installed as a dependency (it pins much of our stack differently), so its registry is
read statically: Python checks by their ``id``/``supported_resources``/``supported_data`` literals (or
their base class's), graph checks by every ``resource_types`` list in their YAML definition. The
output records the checkov version and commit it was generated from.

Usage: python tools/checkov_resource_types.py GIT_DIR [--rev REV] > tests/policies/fixtures/checkov_resource_types.json
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from typing import Any

import yaml

PY_DIRS = ("checkov/terraform/checks/resource/", "checkov/terraform/checks/data/")
"""AWS checks live in ``<dir>aws/``; their base classes directly in ``<dir>`` (other providers' dirs are
skipped: their base classes share names with the AWS ones)."""
GRAPH_DIR = "checkov/terraform/checks/graph_checks/aws/"
CHECK_ATTRS = ("supported_resources", "supported_data")


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True).stdout


def _strings(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return values if len(values) == len(node.elts) else None
    return None


def _class_facts(tree: ast.Module) -> list[tuple[str, dict[str, Any]]]:
    """(class name, {"id", "types", "bases"}) from the class body and its ``super().__init__(...)`` call."""
    constants = {
        t.id: _strings(n.value) for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    facts: list[tuple[str, dict[str, Any]]] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        local: dict[str, Any] = {}
        for node in ast.walk(cls):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        value = node.value
                        local[target.id] = value.value if isinstance(value, ast.Constant) else _strings(value)

        def resolve(node: ast.AST) -> Any:
            if isinstance(node, ast.Constant):
                return node.value
            if isinstance(node, ast.Name):
                return local.get(node.id, constants.get(node.id))
            return _strings(node)

        found: dict[str, Any] = {
            "id": local.get("id"),
            "name": local.get("name"),
            "types": next((local[a] for a in CHECK_ATTRS if isinstance(local.get(a), list)), None),
            "bases": [getattr(b, "id", getattr(b, "attr", "")) for b in cls.bases],
        }
        for node in ast.walk(cls):
            if isinstance(node, ast.keyword) and node.arg in CHECK_ATTRS and isinstance(resolve(node.value), list):
                found["types"] = resolve(node.value)
            if isinstance(node, ast.keyword) and node.arg in ("id", "check_id") and isinstance(resolve(node.value), str):
                found["id"] = resolve(node.value)
            if isinstance(node, ast.keyword) and node.arg == "name" and isinstance(resolve(node.value), str):
                found["name"] = found["name"] or resolve(node.value)
        facts.append((cls.name, found))
    return facts


def _python_checks(git_dir: str, rev: str) -> dict[str, dict[str, Any]]:
    files = [
        f
        for f in _git(git_dir, "ls-tree", "-r", "--name-only", rev).splitlines()
        if f.endswith(".py") and any(f.startswith(f"{d}aws/") or f.startswith(d) and "/" not in f[len(d):] for d in PY_DIRS)
    ]
    facts = [fact for path in files for fact in _class_facts(ast.parse(_git(git_dir, "show", f"{rev}:{path}")))]
    bases: dict[str, dict[str, Any]] = {}
    for name, cls in facts:
        if cls["types"] is not None or name not in bases:
            bases[name] = cls

    def types_of(cls: dict[str, Any], depth: int = 0) -> list[str] | None:
        if cls["types"] is not None or depth > 5:
            return cls["types"]
        for base in cls["bases"]:
            if base in bases and (found := types_of(bases[base], depth + 1)) is not None:
                return found
        return None

    checks: dict[str, dict[str, Any]] = {}
    for _, cls in facts:
        if isinstance(cls["id"], str) and cls["id"].startswith("CKV") and "_AWS_" in cls["id"]:
            types = types_of(cls)
            if types:
                known = checks.get(cls["id"], {}).get("resource_types", [])
                checks[cls["id"]] = {"name": cls["name"] or "", "resource_types": sorted(set(known) | set(types))}
    return checks


def _resource_types(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("resource_types", "connected_resource_types") and isinstance(value, list | str):
                found.update(v for v in ([value] if isinstance(value, str) else value) if isinstance(v, str))
            elif key == "value" and node.get("attribute") == "resource_type" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= _resource_types(value)
    elif isinstance(node, list):
        for item in node:
            found |= _resource_types(item)
    return found


def _graph_checks(git_dir: str, rev: str) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", rev).splitlines():
        if path.startswith(GRAPH_DIR) and path.endswith((".yaml", ".yml")):
            doc = yaml.safe_load(_git(git_dir, "show", f"{rev}:{path}")) or {}
            metadata = doc.get("metadata") or {}
            if metadata.get("id"):
                types = sorted(t for t in _resource_types(doc.get("definition")) if t.startswith("aws_"))
                checks[metadata["id"]] = {"name": metadata.get("name", ""), "resource_types": types}
    return checks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir")
    parser.add_argument("--rev", default="HEAD")
    args = parser.parse_args(argv)
    commit = _git(args.git_dir, "rev-parse", args.rev).strip()
    version = _git(args.git_dir, "describe", "--tags", args.rev).strip()
    checks = {**_python_checks(args.git_dir, commit), **_graph_checks(args.git_dir, commit)}
    document = {
        "source": f"https://github.com/bridgecrewio/checkov at {version} (commit {commit})",
        "generator": "tools/checkov_resource_types.py",
        "checks": dict(sorted(checks.items())),
    }
    json.dump(document, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
