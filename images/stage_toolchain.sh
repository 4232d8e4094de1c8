#!/usr/bin/env bash
# Stage the image pipeline's toolchain in S3 (run with internet access, e.g. where bootstrap runs):
#
#   images/stage_toolchain.sh s3://<p>-release-<res-account>-<region>/toolchain/pulumi-toolchain.zip <release-key-arn>
#
# Builds the archive images/build.sh expects:
#   pulumi/                         the Pulumi CLI, the version of the pulumi SDK pin in constraints.txt
#   plugins/resource-aws-v<ver>/    the pulumi-resource-aws plugin of the pulumi-aws pin
#   wheels/                         every pin of constraints.txt as linux x86_64 wheels for CPython 3.11,
#                                   the build-system requirements (setuptools, wheel) included
# and uploads it SSE-KMS with the release key. `mlops-platform bootstrap --stage-toolchain` runs it
# (after the first res deploy: the bucket and key exist from then on).
set -euo pipefail

target="${1:?usage: stage_toolchain.sh s3://bucket/toolchain/pulumi-toolchain.zip <kms-key-arn>}"
key="${2:?the release key ARN (res stack output releaseKeyArn)}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
pin() { grep -iE "^$1==" "$repo/constraints.txt" | cut -d= -f3; }
pulumi_version="$(pin pulumi)"
aws_version="$(pin 'pulumi[-_]aws')"
[ -n "$pulumi_version" ] && [ -n "$aws_version" ] || { echo "error: pulumi pins not found in constraints.txt" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

curl -fsSL "https://get.pulumi.com/releases/sdk/pulumi-v${pulumi_version}-linux-x64.tar.gz" | tar -xz -C "$work"
PULUMI_HOME="$work/home" "$work/pulumi/pulumi" plugin install resource aws "v${aws_version}"
mkdir -p "$work/stage/plugins"
mv "$work/pulumi" "$work/stage/pulumi"
cp -a "$work/home/plugins/resource-aws-v${aws_version}" "$work/stage/plugins/"
python3 -m pip download --quiet --dest "$work/stage/wheels" --only-binary=:all: \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp \
  -r "$repo/constraints.txt"
(cd "$work/stage" && zip -qr "$work/pulumi-toolchain.zip" .)
aws s3 cp "$work/pulumi-toolchain.zip" "$target" --sse aws:kms --sse-kms-key-id "$key"
echo "staged pulumi ${pulumi_version}, pulumi-resource-aws ${aws_version} and the wheelhouse at $target"
