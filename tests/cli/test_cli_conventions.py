"""The CLI behaves the same everywhere: -s for every --stack, one error style, no type placeholders in
help, --version, completion, make help; and it works on the project the user stands in."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.cli import app, package_version
from mlops_platform.commands import common
from mlops_platform.progress_line import ProgressLine, progress_enabled, run_with_progress

RUNNER = CliRunner()


def _commands(group, path=()):
    """(path, click command) of every leaf command."""
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "commands", None):
            yield from _commands(command, (*path, name))
        yield (*path, name), command


def _all_commands():
    return list(_commands(typer.main.get_command(app)))


def test_every_stack_option_has_the_short_form() -> None:
    missing = [" ".join(path) for path, command in _all_commands() for p in command.params
               if "--stack" in getattr(p, "opts", []) and "-s" not in p.opts]
    assert not missing, f"commands whose --stack lacks -s: {missing}"


def test_the_stack_option_scan_sees_the_commands() -> None:
    names = {" ".join(path) for path, command in _all_commands() if any("--stack" in getattr(p, "opts", []) for p in command.params)}
    assert {"plan", "check", "drift", "destroy", "doctor", "report"} <= names, names


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in _all_commands()])
def test_help_shows_no_type_placeholders_for_options(path: str) -> None:
    """Flags show nothing after them, valued options a name (FILE, NAME) or their choices, never a type
    such as `<bool>` or `<str>`."""
    result = RUNNER.invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    options = [line for line in result.stdout.splitlines() if line.lstrip().startswith("-")]
    names = [line.strip().split("  ")[0] for line in options]
    placeholders = [name for name in names if "<" in name and "|" not in name]  # <text|json> lists choices
    assert not placeholders, f"`mlops-platform {path} --help` shows type placeholders: {placeholders}"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["plan", "--sumary"], "no such option: --sumary"),
        (["deploy", "--max-stacks", "x"], "invalid value for '--max-stacks'"),
        (["destroy"], "missing option '--stack'"),
        (["nope"], "no such command 'nope'"),
        (["check", "--format", "xml"], "--format must be one of"),
    ],
)
def test_bad_options_are_one_error_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 2, f"{args}: exit {result.exit_code}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], f"{args}: {result.stderr!r}"


def test_version() -> None:
    result = RUNNER.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"mlops-platform {package_version()}", result.output
    assert package_version() != "unknown", "the installed package has no version"


def test_shell_completion_is_offered() -> None:
    result = RUNNER.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout, result.stdout


def test_make_help_lists_every_target() -> None:
    done = subprocess.run(["make", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for target in ("plan", "test", "check", "report", "policy-config", "bench", "clean"):
        assert any(line.startswith(f"{target}:") for line in done.stdout.splitlines()), f"make help lacks {target}: {done.stdout}"


# --- the project the user stands in ---------------------------------------------------------------


def test_the_project_is_found_from_a_subdirectory(repo_copy: Path, monkeypatch) -> None:
    (repo_copy / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(repo_copy / "deep" / "er")
    monkeypatch.delenv("MLOPS_PLATFORM_ROOT", raising=False)
    common.choose_directory(None)
    assert common.project_root() == repo_copy, "the project is the nearest directory above with both markers"


def test_outside_a_project_is_one_line_naming_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_PLATFORM_ROOT", raising=False)
    result = RUNNER.invoke(app, ["plan", "--summary"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "-C DIR" in result.stderr, result.output


def test_dash_c_points_at_another_checkout(repo_copy: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_PLATFORM_ROOT", raising=False)
    result = RUNNER.invoke(app, ["-C", str(repo_copy), "plan", "--stack", "dev", "--summary"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"Project {repo_copy} "), result.stdout.splitlines()[0]


def test_dash_c_without_a_project_is_one_line(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["-C", str(tmp_path), "plan"])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: -C {tmp_path}: no Pulumi.yaml"), result.output


def test_the_installed_cli_plans_the_checkout_it_is_run_in(repo_copy: Path) -> None:
    """As a process, from inside a copy with another platform name: the copy is planned, not the install."""
    path = repo_copy / "organization.yaml"
    path.write_text(path.read_text().replace("platformName: mlops\n", "platformName: otherco\n", 1))
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_PLATFORM_ROOT"}
    done = subprocess.run([sys.executable, "-m", "mlops_platform.cli", "plan", "-s", "dev", "--format", "json"],
                          cwd=repo_copy, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert '"otherco-' in done.stdout and '"project": "' + str(repo_copy) in done.stdout, "the copy's config was not planned"


# --- the progress line --------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_at_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = _Terminal()
    line = ProgressLine(stream)
    line.show("planning 6 stacks")
    line.clear()
    assert "\rplanning 6 stacks ... 0 s" in stream.getvalue(), repr(stream.getvalue())
    assert stream.getvalue().endswith("\r"), "the line is cleared at the end"


def test_no_progress_line_with_ci_set(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled(_Terminal()), "CI must never get progress lines"


def test_no_progress_line_into_a_pipe(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = io.StringIO()
    line = ProgressLine(stream)
    line.show("planning")
    line.clear()
    assert stream.getvalue() == "", "a pipe or a file gets no progress line"


def test_the_makefile_runs_the_first_install_with_a_progress_line() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    install = makefile.split("$(STAMP): pyproject.toml constraints.txt", 1)[1].split("\n\n", 1)[0]
    assert "$(PROGRESS)" in install and "pip install" in install, install


def test_the_progress_runner_passes_the_exit_code_through(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = _Terminal()
    assert run_with_progress("failing step", [sys.executable, "-c", "raise SystemExit(3)"], stream) == 3
    assert "failing step" in stream.getvalue()


def test_a_program_warning_is_shown_once_per_run(caplog) -> None:
    import logging

    stream = io.StringIO()
    handler = common.show_program_warnings()
    handler.setStream(stream)
    for _ in range(2):  # the known-outputs pass and the preview pass log the same warning
        logging.getLogger().warning("spot-weld-qa-prod: no baseline")
    assert stream.getvalue() == "warning: spot-weld-qa-prod: no baseline\n", repr(stream.getvalue())


def test_dash_c_holds_for_one_invocation_only(repo_copy: Path) -> None:
    assert RUNNER.invoke(app, ["-C", str(repo_copy), "policy-config", "--check"]).exit_code in (0, 1)
    assert common.project_root() != repo_copy, "-C leaked into the next command of the same process"
