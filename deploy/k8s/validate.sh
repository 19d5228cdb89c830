#!/usr/bin/env bash
# Validates the Kubernetes manifests offline: renders them with kustomize (kubectl's
# built-in one, or a kustomize binary) when either is installed, checks every resource
# against the Kubernetes schemas with kubernetes-validate (PyPI; it ships the schemas, so
# no cluster and no network are needed once it is installed) in strict mode, then checks
# the deployment's own promises (validate.py). Installs kubernetes-validate with pip when
# it is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBERNETES_VALIDATE_VERSION=1.37.0

if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} (pip)"
  python3 -m pip install --quiet "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
fi

rendered="$(mktemp --suffix=.yaml)"
trap 'rm -f "$rendered"' EXIT
if command -v kustomize >/dev/null 2>&1; then
  kustomize build "$here" >"$rendered"
  echo "rendered with kustomize $(kustomize version 2>/dev/null | head -1)"
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize "$here" >"$rendered" 2>/dev/null; then
  echo "rendered with kubectl kustomize"
else
  # No kustomize: the resources as written (the image tag is then the kustomization's job,
  # so validate.py's tag check is skipped by rendering a copy with the tag applied).
  echo "kustomize not available: validating the files as written"
  tag="$(sed -n 's/^ *newTag: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$here/kustomization.yaml")"
  for file in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$here/kustomization.yaml"); do
    sed "s|image: gts$|image: gts:${tag}|" "$here/$file"
    echo "---"
  done >"$rendered"
fi

# Strict: unknown fields are errors. KEDA's kinds have no bundled schema (a warning);
# validate.py checks their fields.
kubernetes-validate --strict --quiet "$rendered"
python3 "$here/validate.py" "$rendered"
echo "manifests valid"
