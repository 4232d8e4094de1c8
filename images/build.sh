#!/usr/bin/env bash
# The image pipeline's build and promote steps (images/buildspecs/image-build.yml runs this).
#
#   images/build.sh build     build every image in $IMAGES, run its tests inside it, push to quarantine
#   images/build.sh promote   copy the scanned quarantine images to the release repositories
#
# Environment (set on the CodeBuild project): REGISTRY, IMAGES ("deploy inference"), CACHE_PREFIX,
# QUARANTINE_<IMAGE>, RELEASE_<IMAGE>; CodeBuild provides CODEBUILD_SRC_DIR (this repository) and
# CODEBUILD_SRC_DIR_toolchain (the toolchain staged by bootstrap). Tags come from images/<image>/VERSION
# and are immutable: a VERSION already released is skipped, never overwritten.
set -euo pipefail

step="${1:?usage: build.sh build|promote}"
src="${CODEBUILD_SRC_DIR:?}"
toolchain="${CODEBUILD_SRC_DIR_toolchain:?the toolchain source artifact is missing}"
base_path="$(grep -v '^#' "$src/images/base-image.txt" | head -n1 | tr -d '[:space:]')"
base_image="${CACHE_PREFIX:?}/${base_path}"

# QUARANTINE_<IMAGE>/RELEASE_<IMAGE>, any character other than a letter or digit as "_" (a hyphenated
# image name is no shell variable name); components/image_pipeline.py's repository_variable() agrees.
repo_var() { local kind="$1" image="$2"; local name="${kind}_${image^^}"; name="${name//[^A-Z0-9_]/_}"; echo "${!name:?$name is not set}"; }
version() { tr -d '[:space:]' < "$src/images/$1/VERSION"; }
released() { aws ecr describe-images --repository-name "$1" --image-ids "imageTag=$2" >/dev/null 2>&1; }

build_one() {
  local image="$1" tag quarantine release context
  tag="$(version "$image")"; quarantine="$(repo_var QUARANTINE "$image")"; release="$(repo_var RELEASE "$image")"
  if released "$release" "$tag"; then echo "skip: $release:$tag is already released (bump images/$image/VERSION)"; return; fi
  # Immutable tags: an earlier run built this VERSION already (e.g. its scan blocked it). Do not rebuild;
  # the scan gate decides again, and a fix needs a new VERSION.
  if released "$quarantine" "$tag"; then echo "skip: $quarantine:$tag exists (bump images/$image/VERSION to rebuild)"; return; fi
  context="$(mktemp -d)"
  mkdir -p "$context/source" "$context/toolchain"
  cp -a "$src/." "$context/source/"
  cp -a "$toolchain/." "$context/toolchain/"
  docker build --pull --build-arg "BASE_IMAGE=$base_image" -f "$src/images/$image/Dockerfile" \
    -t "$REGISTRY/$quarantine:$tag" "$context"
  # The image's own tests, inside the image, with pytest from the wheelhouse (not part of the image).
  docker run --rm --network none --user 0 --entrypoint /bin/sh -v "$toolchain/wheels:/wheels:ro" "$REGISTRY/$quarantine:$tag" -c \
    "python -m pip install --quiet --no-index --find-links /wheels pytest && python -m pytest -q -p no:cacheprovider \$(ls -d /opt/mlops/tests /opt/program/tests 2>/dev/null)"
  if [ "$image" = deploy ]; then
    docker run --rm --network none "$REGISTRY/$quarantine:$tag" sh -c \
      'pulumi version && ls "$PULUMI_HOME/plugins" | grep -q "^resource-aws-v" && mlops-platform --help >/dev/null'
  fi
  docker push "$REGISTRY/$quarantine:$tag"
  rm -rf "$context"
}

promote_one() {
  local image="$1" tag quarantine release
  tag="$(version "$image")"; quarantine="$(repo_var QUARANTINE "$image")"; release="$(repo_var RELEASE "$image")"
  if released "$release" "$tag"; then echo "skip: $release:$tag is already released"; return; fi
  docker pull "$REGISTRY/$quarantine:$tag"
  docker tag "$REGISTRY/$quarantine:$tag" "$REGISTRY/$release:$tag"
  docker push "$REGISTRY/$release:$tag"
}

aws ecr get-login-password --region "${AWS_REGION:?}" | docker login --username AWS --password-stdin "$REGISTRY"
for image in ${IMAGES:?}; do
  case "$step" in
    build) build_one "$image" ;;
    promote) promote_one "$image" ;;
    *) echo "error: unknown step $step (build or promote)" >&2; exit 2 ;;
  esac
done
