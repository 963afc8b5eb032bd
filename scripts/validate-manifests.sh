#!/usr/bin/env bash
# External checks of generated manifests, by tools nobody here wrote:
#   - kubernetes-validate --strict against Kubernetes 1.33 and 1.37 (every fixture and
#     corpus output dumped by `MANIFEST_DUMP=DIR cargo test`);
#   - kubectl kustomize builds every corpus Kustomize directory;
#   - with --hash-suffix, the ConfigMap/Secret names we generate equal the names
#     kubectl kustomize computes from the same data (secretGenerator/configMapGenerator
#     rebuilt from our objects).
# Usage: scripts/validate-manifests.sh DUMP_DIR [VALIDATOR]
set -euo pipefail
dump=${1:?usage: validate-manifests.sh DUMP_DIR [kubernetes-validate]}
validate=${2:-kubernetes-validate}

mapfile -t files < <(find "$dump/fixtures" "$dump/corpus" -name '*.yaml' -size +0 2>/dev/null | sort)
echo "kubernetes-validate: ${#files[@]} manifest files"
[ "${#files[@]}" -gt 0 ] || { echo "no manifests dumped"; exit 1; }
for v in 1.33.0 1.37.0; do
  if ! out=$("$validate" --strict --quiet -k "$v" "${files[@]}" 2>&1); then
    echo "$out"
    echo "kubernetes-validate --strict -k $v FAILED"
    exit 1
  fi
  echo "kubernetes-validate --strict -k $v: ${#files[@]} files passed"
done

n=0
for d in "$dump"/kustomize/*/ "$dump"/kustomize-hash/*/; do
  [ -d "$d" ] || continue
  if ! kubectl kustomize "$d" > /dev/null; then
    echo "kubectl kustomize $d FAILED"
    exit 1
  fi
  n=$((n + 1))
done
echo "kubectl kustomize: $n directories built"

python3 "$(dirname "$0")/check-hash-suffix.py" "$dump/kustomize-hash"
