"""The repository's version pins, which must agree, and the one command that bumps them together.

Where a version is written down:

* ``pyproject.toml``: the direct dependencies (runtime and ``dev``), ``name==version``;
* ``constraints.txt``: the whole installed tree, one ``name==version`` per package (the source of truth
  for everything else: the serving project, the images' unpinned requirements, the toolchain staging);
* ``policies/requirements.txt``: the policy pack's own virtualenv (the Pulumi CLI creates it);
* ``images/deploy/VERSION``: ``pulumi<sdk>-aws<provider>-r<n>``, the deploy image's immutable tag;
* ``images/inference/VERSION``: the inference image's tag (its requirements come from the constraints).

:func:`disagreements` lists every place that does not match ``constraints.txt``; :func:`bump` rewrites
all of them for new versions (``mlops-platform pins bump NAME==VERSION ...``) and gives the images new
tags when what they contain changed, because image tags are never reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = "pyproject.toml"
CONSTRAINTS = "constraints.txt"
PACK_REQUIREMENTS = "policies/requirements.txt"
DEPLOY_VERSION = "images/deploy/VERSION"
INFERENCE_VERSION = "images/inference/VERSION"
INFERENCE_REQUIREMENTS = "images/inference/requirements.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?==(?P<version>[^\s;#\"',]+)")
QUOTED_PIN = re.compile(r'"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?==(?P<version>[^"\s;]+)"')
DEPLOY_TAG = re.compile(r"^pulumi(?P<pulumi>[^-]+)-aws(?P<aws>[^-]+)-r(?P<revision>\d+)$")


class PinError(Exception):
    """A pin cannot be read or bumped; the message is one line."""


def normalise(name: str) -> str:
    """PEP 503: ``PyYAML`` and ``pyyaml``, ``ruamel.yaml`` and ``ruamel-yaml`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Disagreement:
    file: str
    package: str
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.file}: {self.package} is {self.found}, {CONSTRAINTS} says {self.expected}"


def _read(root: Path, name: str) -> str:
    try:
        return (root / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PinError(f"{name}: file not found") from None


def line_pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements or constraints file (normalised names)."""
    pins = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalise(match["name"])] = match["version"]
    return pins


def pyproject_pins(text: str) -> dict[str, str]:
    return {normalise(m["name"]): m["version"] for m in QUOTED_PIN.finditer(text)}


def deploy_tag(text: str) -> dict[str, str]:
    match = DEPLOY_TAG.match(text.strip())
    if not match:
        raise PinError(f"{DEPLOY_VERSION}: {text.strip()!r} is not pulumi<version>-aws<version>-r<n>")
    return match.groupdict()


def disagreements(root: Path) -> list[Disagreement]:
    """Every pin that differs from ``constraints.txt`` (or that it lacks), in every file that pins."""
    constraints = line_pins(_read(root, CONSTRAINTS))
    found: list[Disagreement] = []

    def compare(file: str, pins: dict[str, str]) -> None:
        for package, version in sorted(pins.items()):
            expected = constraints.get(package, "nothing")
            if version != expected:
                found.append(Disagreement(file, package, version, expected))

    compare(PYPROJECT, pyproject_pins(_read(root, PYPROJECT)))
    compare(PACK_REQUIREMENTS, line_pins(_read(root, PACK_REQUIREMENTS)))
    tag = deploy_tag(_read(root, DEPLOY_VERSION))
    compare(DEPLOY_VERSION, {"pulumi": tag["pulumi"], "pulumi-aws": tag["aws"]})
    for line in _read(root, INFERENCE_REQUIREMENTS).splitlines():
        name = line.split("#")[0].strip()
        if name and normalise(name) not in constraints:
            found.append(Disagreement(INFERENCE_REQUIREMENTS, normalise(name), "unpinned", "nothing"))
    return found


def _replace_line_pins(text: str, versions: dict[str, str]) -> str:
    def swap(line: str) -> str:
        match = PIN.match(line.strip())
        if match and normalise(match["name"]) in versions:
            return line.replace(f"=={match['version']}", f"=={versions[normalise(match['name'])]}", 1)
        return line

    return "".join(swap(line) for line in text.splitlines(keepends=True))


def _replace_quoted_pins(text: str, versions: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        package = normalise(match["name"])
        if package not in versions:
            return match.group(0)
        return f'"{match["name"]}{match["extras"] or ""}=={versions[package]}"'

    return QUOTED_PIN.sub(swap, text)


def parse_request(spec: str) -> tuple[str, str]:
    match = PIN.fullmatch(spec.strip())
    if not match:
        raise PinError(f"{spec!r}: expected NAME==VERSION, e.g. pulumi-aws==7.52.0")
    return normalise(match["name"]), match["version"]


def bump(root: Path, requests: list[str]) -> list[str]:
    """Set each ``NAME==VERSION`` everywhere it is pinned; new image tags where contents changed.
    Returns what changed, one line each; raises PinError (nothing written) on bad input."""
    versions = dict(parse_request(spec) for spec in requests)
    constraints_text = _read(root, CONSTRAINTS)
    constraints = line_pins(constraints_text)
    unknown = sorted(set(versions) - set(constraints))
    if unknown:
        raise PinError(f"{', '.join(unknown)}: not in {CONSTRAINTS} (add a new dependency to pyproject.toml and {CONSTRAINTS} by hand)")
    changed = {name: version for name, version in versions.items() if constraints[name] != version}
    if not changed:
        return []
    files = {
        CONSTRAINTS: _replace_line_pins(constraints_text, changed),
        PYPROJECT: _replace_quoted_pins(_read(root, PYPROJECT), changed),
        PACK_REQUIREMENTS: _replace_line_pins(_read(root, PACK_REQUIREMENTS), changed),
        DEPLOY_VERSION: _next_deploy_tag(_read(root, DEPLOY_VERSION), changed) + "\n",
    }
    inference = {normalise(line.split("#")[0].strip()) for line in _read(root, INFERENCE_REQUIREMENTS).splitlines()} - {""}
    if inference & set(changed):
        files[INFERENCE_VERSION] = _next_patch(_read(root, INFERENCE_VERSION)) + "\n"
    report = [f"{name}: {constraints[name]} -> {version}" for name, version in sorted(changed.items())]
    for name, text in files.items():
        if text != _read(root, name):
            (root / name).write_text(text, encoding="utf-8")
            report.append(f"wrote {name}")
    return report


def _next_deploy_tag(current: str, changed: dict[str, str]) -> str:
    tag = deploy_tag(current)
    pulumi, aws = changed.get("pulumi", tag["pulumi"]), changed.get("pulumi-aws", tag["aws"])
    revision = 1 if (pulumi, aws) != (tag["pulumi"], tag["aws"]) else int(tag["revision"]) + 1
    return f"pulumi{pulumi}-aws{aws}-r{revision}"


def _next_patch(current: str) -> str:
    parts = current.strip().split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise PinError(f"{INFERENCE_VERSION}: {current.strip()!r} is not MAJOR.MINOR.PATCH")
    return f"{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"
