"""Command line for the "Model Building" product's CodeBuild job (and anyone without Pulumi).

    python -m mlops_pipelines package-code --bucket B --out-dir build/code > code-uris.json
    aws s3 sync build/code s3://B/ --sse aws:kms --sse-kms-key-id <key>
    python -m mlops_pipelines definition --spec spec.json --code-uris code-uris.json --out definition.json
    python -m mlops_pipelines upsert --spec spec.json --code-uris code-uris.json --start --git-commit "$CODEBUILD_RESOLVED_SOURCE_VERSION"

`package-code` writes the seed scripts under their content-hashed keys (as files below --out-dir)
and prints the three `PipelineSpec` code URIs as JSON. `definition` reads a `PipelineSpec` as JSON
(snake_case fields, see `spec.py`), optionally merged with such a URI file, and writes the
definition. `upsert` builds the definition the same way (offline), then creates or updates the
pipeline with the caller's credentials and, with --start, starts an execution carrying the git
commit and data set version; it prints the ARNs as JSON. Exit codes: 0 ok, 1 AWS refused or
failed, 2 bad input (one line on stderr: `error: <what is wrong>`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from mlops_pipelines.sourcedir import SEED_CODE_DIR, SeedCodeError, package_seed_code
from mlops_pipelines.spec import PipelineSpec, PipelineSpecError


class _InputError(Exception):
    pass


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _InputError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    except ValueError as error:
        raise _InputError(f"{path}: {what} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise _InputError(f"{path}: {what} must be a JSON object")
    return data


def _package_code(args: argparse.Namespace) -> int:
    seed = package_seed_code(args.seed_dir, args.key_prefix)
    for code in seed.objects():
        target = args.out_dir / code.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(code.data)
    print(json.dumps(seed.spec_uris(args.bucket), indent=2, sort_keys=True))
    return 0


def _spec_and_definition(args: argparse.Namespace) -> tuple[PipelineSpec, str]:
    data = _read_json(args.spec, "spec")
    if args.code_uris is not None:
        data = {**data, **_read_json(args.code_uris, "code URIs")}
    spec = PipelineSpec.from_dict(data)
    if args.no_cache:
        from mlops_pipelines.definition import build_pipeline_definition

        return spec, build_pipeline_definition(spec)
    from mlops_pipelines.cache import cached_pipeline_definition

    return spec, cached_pipeline_definition(spec)


def _definition(args: argparse.Namespace) -> int:
    _, definition = _spec_and_definition(args)
    if args.out is None:
        sys.stdout.write(definition + "\n")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(definition, encoding="utf-8")
    return 0


def _upsert(args: argparse.Namespace) -> int:
    if args.start and not args.git_commit:
        raise _InputError("--start needs --git-commit (recorded in the model package's lineage)")
    spec, definition = _spec_and_definition(args)
    import boto3

    from mlops_pipelines.deploy import start_pipeline, upsert_pipeline

    client = boto3.client("sagemaker", region_name=spec.region)
    result = {"pipeline_arn": upsert_pipeline(client, spec, definition)}
    if args.start:
        result["execution_arn"] = start_pipeline(
            client, spec.pipeline_name, args.git_commit, args.dataset_version, args.client_request_token
        )
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def _add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", type=Path, required=True, help="PipelineSpec as JSON")
    parser.add_argument("--code-uris", type=Path, help="JSON printed by package-code, merged into the spec")
    parser.add_argument("--no-cache", action="store_true", help="always build, never read or write the cache")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_pipelines", description="Model build pipeline definition tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    package = commands.add_parser("package-code", help="write the seed code under content-hashed keys, print their URIs")
    package.add_argument("--bucket", required=True, help="bucket the code is uploaded to (for the printed URIs)")
    package.add_argument("--out-dir", type=Path, required=True, help="directory to write <key> files into")
    package.add_argument("--seed-dir", type=Path, default=SEED_CODE_DIR, help="seed project directory")
    package.add_argument("--key-prefix", default="code", help="S3 key prefix (default: code)")
    package.set_defaults(handler=_package_code)

    definition = commands.add_parser("definition", help="build the pipeline definition JSON from a spec")
    _add_spec_arguments(definition)
    definition.add_argument("--out", type=Path, help="output file (default: stdout)")
    definition.set_defaults(handler=_definition)

    upsert = commands.add_parser("upsert", help="build the definition, create or update the pipeline, optionally start it")
    _add_spec_arguments(upsert)
    upsert.add_argument("--start", action="store_true", help="start an execution after the upsert")
    upsert.add_argument("--git-commit", help="GitCommit execution parameter (required with --start)")
    upsert.add_argument("--dataset-version", help="DatasetVersion execution parameter (default: the spec's)")
    upsert.add_argument("--client-request-token", help="idempotency token (32-128 characters) for the execution")
    upsert.set_defaults(handler=_upsert)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (_InputError, PipelineSpecError, SeedCodeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
