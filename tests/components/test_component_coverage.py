"""Every ComponentResource class in components/ has a test in tests/components/.

A class counts as tested when a test module here imports it from its components module and uses the
name somewhere besides the import (constructing it, usually inside a declaring function), and that
module defines at least one ``test_`` function. Read with ``ast``, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mlops_core.paths import REPO_ROOT

COMPONENTS_DIR = REPO_ROOT / "components"
TESTS_DIR = Path(__file__).resolve().parent


def component_classes(sources: dict[str, str]) -> dict[str, str]:
    """``class name -> module`` of every ``class X(pulumi.ComponentResource)`` in the sources (module -> text)."""
    classes = {}
    for module, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Attribute) and base.attr == "ComponentResource"
                and isinstance(base.value, ast.Name) and base.value.id == "pulumi"
                for base in node.bases
            ):
                classes[node.name] = module
    return classes


def covered_classes(test_sources: dict[str, str]) -> set[tuple[str, str]]:
    """``(module, class)`` pairs a test module imports from ``components.<module>`` and uses."""
    tested: set[tuple[str, str]] = set()
    for text in test_sources.values():
        tree = ast.parse(text)
        if not any(isinstance(n, ast.FunctionDef) and n.name.startswith("test_") for n in tree.body):
            continue
        imported = {
            (node.module.removeprefix("components."), alias.asname or alias.name): alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("components.")
            for alias in node.names
        }
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        tested |= {(module, original) for (module, local), original in imported.items() if local in used}
    return tested


def untested(component_sources: dict[str, str], test_sources: dict[str, str]) -> list[str]:
    """``components/<module>.py: <Class>`` for every component class without a test, sorted."""
    tested = covered_classes(test_sources)
    return sorted(f"components/{module}.py: {name}" for name, module in component_classes(component_sources).items()
                  if (module, name) not in tested)


def _read(directory: Path, pattern: str) -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(directory.glob(pattern))}


COMPONENT = "import pulumi\n\nclass Widget(pulumi.ComponentResource):\n    pass\n\nclass WidgetArgs:\n    pass\n"
USING_TEST = "from components.widget import Widget\n\ndef test_widget():\n    Widget('w')\n"


def test_every_component_class_has_a_test_here() -> None:
    missing = untested(_read(COMPONENTS_DIR, "*.py"), _read(TESTS_DIR, "test_*.py"))
    assert not missing, f"ComponentResource classes without a test in tests/components/: {missing}"


def test_the_checker_finds_the_components_of_this_repository() -> None:
    found = component_classes(_read(COMPONENTS_DIR, "*.py"))
    assert {"IsolatedNetwork", "AccountBaseline", "UserNameAttribute"} <= set(found) and len(found) >= 30, sorted(found)


def test_a_component_no_test_imports_is_reported() -> None:
    assert untested({"widget": COMPONENT}, {"test_other": "def test_nothing():\n    pass\n"}) == ["components/widget.py: Widget"]


def test_an_import_without_use_is_not_a_test() -> None:
    unused = "from components.widget import Widget  # noqa: F401\n\ndef test_nothing():\n    pass\n"
    assert untested({"widget": COMPONENT}, {"test_widget": unused}) == ["components/widget.py: Widget"]


def test_a_module_without_test_functions_does_not_count() -> None:
    helper = "from components.widget import Widget\n\ndef build():\n    return Widget('w')\n"
    assert untested({"widget": COMPONENT}, {"test_helpers": helper}) == ["components/widget.py: Widget"]


def test_a_same_named_class_of_another_module_does_not_count() -> None:
    other = USING_TEST.replace("components.widget", "components.gadget")
    assert untested({"widget": COMPONENT}, {"test_widget": other}) == ["components/widget.py: Widget"]


def test_a_used_import_counts_as_tested() -> None:
    assert untested({"widget": COMPONENT}, {"test_widget": USING_TEST}) == [], "Widget is imported and constructed in a test module"


def test_only_component_resources_are_required() -> None:
    assert list(component_classes({"widget": COMPONENT})) == ["Widget"], "WidgetArgs is no ComponentResource"
