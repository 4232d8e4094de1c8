"""The shape of the repository: layers that only point down, functions that fit on a screen, a tidy root.

Layers, bottom to top (a module may import its own layer's package and any layer below, never above
or sideways):

    mlops_core                                   shared vocabulary: config, naming, roles, paths
    mlops_etl, mlops_functions, mlops_pipelines  code that runs elsewhere (Glue, Lambda, SageMaker)
    components                                   ComponentResources and the pure logic behind them
    platform/ (``accounts``), serving/           the Pulumi programs
    mlops_platform                               the CLI and the deployer

The policy pack (``mlops_guard`` under policies/) stands apart: it imports nothing of ours.
"""

from __future__ import annotations

import ast
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_core.paths import REPO_ROOT

#: Top-level import name -> layer. Libraries share a layer but must not import each other.
LAYERS: dict[str, int] = {
    "mlops_core": 0,
    "mlops_etl": 1,
    "mlops_functions": 1,
    "mlops_pipelines": 1,
    "components": 2,
    "accounts": 3,  # platform/accounts/, importable only inside the platform program
    "serving_settings": 3,
    "serving_stack": 3,
    "mlops_platform": 4,
    "mlops_guard": 5,  # stands apart; only the CLI may import it
}
#: Which program each layer-3 module belongs to: the two programs must not import each other.
PROGRAM_OF = {"accounts": "platform", "serving_settings": "serving", "serving_stack": "serving"}
#: Where each package's sources live, repository-relative.
SOURCES: dict[str, str] = {
    "mlops_core": "mlops_core",
    "mlops_etl": "etl/mlops_etl",
    "mlops_functions": "mlops_functions",
    "mlops_pipelines": "mlops_pipelines",
    "components": "components",
    "accounts": "platform",
    "serving_settings": "serving",
    "mlops_platform": "mlops_platform",
    "mlops_guard": "policies",
}


@dataclass(frozen=True)
class ImportEdge:
    source: str
    """Repository-relative file."""
    line: int
    importer: str
    """Top-level name of the importing module's package."""
    imported: str
    """Top-level name of what it imports."""
    module: str
    """The full imported module name, as written."""


def _owner(relative: Path) -> str:
    """The top-level import name a source file belongs to."""
    parts = relative.parts
    if parts[0] == "platform":
        return "accounts"
    if parts[0] == "serving":
        return "serving_stack" if relative.name != "serving_settings.py" else "serving_settings"
    if parts[0] == "policies":
        return "mlops_guard"
    if parts[0] == "etl":
        return "mlops_etl"
    return parts[0]


def _python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def import_edges() -> list[ImportEdge]:
    """Every import of one of our packages, from every source file of every layer."""
    edges: list[ImportEdge] = []
    files = {path for folder in set(SOURCES.values()) for path in _python_files(folder)}
    for path in sorted(files):
        relative = path.relative_to(REPO_ROOT)
        if relative.parts[0] == "etl" and relative.parts[1] != "mlops_etl":
            continue  # the Glue job script and the sample generator are scripts, checked below
        importer = _owner(relative)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for module in names:
                top = module.split(".")[0]
                if top in LAYERS:
                    edges.append(ImportEdge(str(relative), node.lineno, importer, top, module))
    return edges


def upward_or_sideways(edge: ImportEdge) -> str | None:
    """Why an import breaks the layering, or None if it points down (or within its own package)."""
    if edge.importer == edge.imported:
        return None
    if edge.importer == "mlops_guard":
        return "the policy pack imports nothing of the platform's packages"
    if edge.imported == "mlops_guard":
        return None if edge.importer == "mlops_platform" else "only the CLI may use the policy pack"
    own, other = LAYERS[edge.importer], LAYERS[edge.imported]
    if other > own:
        return f"layer {edge.importer} ({own}) imports the higher layer {edge.imported} ({other})"
    if other == own:
        if PROGRAM_OF.get(edge.importer) and PROGRAM_OF.get(edge.importer) == PROGRAM_OF.get(edge.imported):
            return None  # serving_stack importing serving_settings: one program
        return f"{edge.importer} imports {edge.imported} sideways (same layer {own})"
    return None


def test_the_import_scan_sees_every_layer() -> None:
    importers = {edge.importer for edge in import_edges()}
    assert {"components", "accounts", "serving_stack", "mlops_platform", "mlops_guard"} <= importers, importers


@pytest.mark.parametrize(
    "edge, broken",
    [
        (ImportEdge("components/x.py", 1, "components", "mlops_platform", "mlops_platform.harness"), True),
        (ImportEdge("components/x.py", 1, "components", "accounts", "accounts.common"), True),
        (ImportEdge("mlops_core/x.py", 1, "mlops_core", "components", "components.network"), True),
        (ImportEdge("mlops_functions/x.py", 1, "mlops_functions", "mlops_etl", "mlops_etl.pseudonymise"), True),
        (ImportEdge("platform/accounts/x.py", 1, "accounts", "serving_stack", "serving_stack"), True),
        (ImportEdge("policies/mlops_guard/x.py", 1, "mlops_guard", "mlops_core", "mlops_core.config"), True),
        (ImportEdge("components/x.py", 1, "components", "mlops_guard", "mlops_guard.config"), True),
        (ImportEdge("components/x.py", 1, "components", "mlops_core", "mlops_core.naming"), False),
        (ImportEdge("serving/serving_stack.py", 1, "serving_stack", "serving_settings", "serving_settings"), False),
        (ImportEdge("mlops_platform/x.py", 1, "mlops_platform", "mlops_guard", "mlops_guard.engine"), False),
    ],
)
def test_the_layer_rule_can_fail(edge: ImportEdge, broken: bool) -> None:
    assert (upward_or_sideways(edge) is not None) is broken, edge


def test_every_import_points_down() -> None:
    broken = [f"{e.source}:{e.line}: imports {e.module}: {why}" for e in import_edges() if (why := upward_or_sideways(e))]
    assert not broken, "imports against the layering:\n" + "\n".join(broken)


def test_the_deployer_does_not_import_the_commands() -> None:
    broken = [
        f"{e.source}:{e.line}: imports {e.module}"
        for e in import_edges()
        if e.source.startswith("mlops_platform/deployer/") and e.module.startswith(("mlops_platform.commands", "mlops_platform.cli"))
    ]
    assert not broken, "the deployer sits under the CLI commands:\n" + "\n".join(broken)


def test_scripts_import_only_the_etl_package() -> None:
    """The Glue job runs with only the mlops_etl zip beside it; the sample generator with nothing."""
    for script, allowed in (("etl/curate_dataset.py", {"mlops_etl"}), ("etl/make_raw_sample.py", set())):
        tree = ast.parse((REPO_ROOT / script).read_text(encoding="utf-8"))
        ours = {
            name.split(".")[0]
            for node in ast.walk(tree)
            for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if name.split(".")[0] in LAYERS
        }
        assert ours <= allowed, f"{script} imports {sorted(ours - allowed)}"


# ---- a tidy root ------------------------------------------------------------------------------

#: What a user edits or runs first; everything else lives in a folder.
MAX_ROOT_FILES = 16


def _tracked() -> list[str]:
    result = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_the_root_holds_at_most_sixteen_tracked_files() -> None:
    root_files = sorted(p for p in _tracked() if "/" not in p and not p.startswith("."))
    assert len(root_files) <= MAX_ROOT_FILES, f"{len(root_files)} tracked files at the root: {root_files}"


def test_no_generated_file_at_the_root() -> None:
    generated = [p for p in _tracked() if "/" not in p and p.startswith("policy-config.")]
    assert not generated, f"generated files belong under policies/config/: {generated}"


def test_no_one_file_folder_at_the_root() -> None:
    counts: dict[str, int] = {}
    for path in _tracked():
        if "/" in path and not path.startswith("."):
            counts[path.split("/")[0]] = counts.get(path.split("/")[0], 0) + 1
    lonely = sorted(folder for folder, count in counts.items() if count == 1)
    assert not lonely, f"one-file folders at the root: {lonely}"


# ---- lists of roles and stages, defined once ----------------------------------------------------

def _role_lists() -> dict[frozenset[str], str]:
    from mlops_core import roles

    return {
        frozenset(values): name
        for name, values in vars(roles).items()
        if isinstance(values, tuple) and len(values) > 1 and all(isinstance(v, str) for v in values)
    }


def spelled_out_role_lists(tree: ast.AST, known: dict[frozenset[str], str]) -> list[tuple[int, str]]:
    """Literal tuples and lists of strings that spell one of mlops_core.roles' lists again (a set of
    personas granted one capability is data, not the list of personas)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List) and len(node.elts) > 1:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(values) == len(node.elts) and frozenset(values) in known:
                found.append((node.lineno, known[frozenset(values)]))
    return found


def test_the_role_list_rule_can_fail() -> None:
    known = _role_lists()
    assert spelled_out_role_lists(ast.parse('STAGES = ("dev", "int", "prod")'), known), "a spelled-out stage list"
    assert not spelled_out_role_lists(ast.parse('X = ("dev", "other")'), known)


def test_role_and_stage_lists_are_defined_once() -> None:
    """Everything but mlops_core/roles.py takes them from there (the policy pack imports nothing of
    ours and needs none: role-specific settings reach it through its per-role config)."""
    known = _role_lists()
    files = {path for folder in ("mlops_core", "components", "platform", "serving", "mlops_platform",
                                 "mlops_functions", "mlops_pipelines", "etl", "images") for path in _python_files(folder)}
    broken = [
        f"{path.relative_to(REPO_ROOT)}:{line}: spells out {name}"
        for path in sorted(files)
        if path.relative_to(REPO_ROOT).as_posix() != "mlops_core/roles.py"
        for line, name in spelled_out_role_lists(ast.parse(path.read_text(encoding="utf-8")), known)
    ]
    assert not broken, "use mlops_core.roles:\n" + "\n".join(broken)
