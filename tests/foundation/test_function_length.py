"""Functions that fit on a screen: none in the programs and components is longer than 120 lines.

A long Pulumi function hides what a stack declares; the programs read like a table of contents
(``platform/accounts/exp_workspace.py``, ``res.py``) and components keep each group of resources in
its own method. Counted with the AST (``end_lineno - lineno + 1``, decorators not included).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mlops_core.paths import REPO_ROOT

MAX_FUNCTION_LINES = 120
#: The Pulumi programs and the components they are built from.
FOLDERS = ("platform", "serving", "components")


@dataclass(frozen=True)
class FunctionLength:
    path: str
    """Repository-relative file."""
    name: str
    """Qualified within the file (``Class.method``, ``outer.inner``)."""
    line: int
    lines: int


def function_lengths(source: str, path: str) -> list[FunctionLength]:
    """Every function and method in ``source`` with its length in lines."""
    found: list[FunctionLength] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append(FunctionLength(path, name, child.lineno, child.end_lineno - child.lineno + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source, filename=path), "")
    return found


def too_long(functions: list[FunctionLength], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """One line per function over ``limit`` lines, naming the file, the function and its length."""
    return [
        f"{f.path}:{f.line}: {f.name} has {f.lines} lines (at most {limit})" for f in functions if f.lines > limit
    ]


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in FOLDERS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(REPO_ROOT).parts)
    )


def _repository_functions() -> list[FunctionLength]:
    return [
        length
        for path in _sources()
        for length in function_lengths(path.read_text(encoding="utf-8"), path.relative_to(REPO_ROOT).as_posix())
    ]


def test_the_scan_sees_every_folder() -> None:
    folders = {f.path.split("/")[0] for f in _repository_functions()}
    assert folders == set(FOLDERS), f"functions found only in {sorted(folders)}"


def test_no_function_is_longer_than_120_lines() -> None:
    problems = too_long(_repository_functions())
    assert not problems, "split these along their sections:\n" + "\n".join(problems)


def _synthetic(lines: int) -> str:
    """A method of ``lines`` lines (its ``def`` line and ``lines - 1`` statements)."""
    body = "".join(f"        x{index} = {index}\n" for index in range(lines - 1))
    return f"class Component:\n    def __init__(self):\n{body}\n"


def test_the_counter_fails_on_a_121_line_function() -> None:
    problems = too_long(function_lengths(_synthetic(121), "components/synthetic.py"))
    assert problems == ["components/synthetic.py:2: Component.__init__ has 121 lines (at most 120)"], problems


def test_the_counter_accepts_a_120_line_function() -> None:
    (length,) = function_lengths(_synthetic(120), "components/synthetic.py")
    assert length.lines == 120 and not too_long([length]), length
