#!/usr/bin/env bash
# Checks the deployment descriptions without a cluster or a container engine (run by .ci/run):
#  1. the Helm chart: `helm lint`, then `helm template` of every values file (and variants) validated by
#     kubeconform (-strict) against the Kubernetes 1.33 JSON schemas (PyPI `kubernetes-validate`, offline)
#     and the operators' CRD schemas (Strimzi Kafka and KafkaNodePool, Prometheus Operator ServiceMonitor,
#     KEDA ScaledObject: deploy/schemas/crd-schemas.sh), plus the chart's own contracts (probes, resources,
#     PDBs, secrets by reference, sizes from the values), the values it must refuse and the CR fields the
#     operators' schemas must refuse;
#  2. the Compose files against the Compose specification schema (as shipped in the npm package `dclint`).
# Tools are built or fetched once into ~/.cache/sentio (helm and kubeconform with `go install` through the
# module proxy; the Kubernetes and Compose schemas from PyPI and npm; the CRD schemas from the module proxy
# and Maven Central, see deploy/schemas/crd-schemas.sh).
#
# The Altinity resources (ClickHouseInstallation, ClickHouseKeeperInstallation) are skipped by kubeconform
# BY KIND (not with -ignore-missing-schemas, so a kind without a schema, or a CR at an apiVersion its
# operator does not serve, still fails): Altinity's CRDs are in no registry reached from here (the module
# proxy refuses its Go module; no npm, PyPI or Maven package carries them). Their fields are checked by the
# chart's contracts (helm/check-rendered.py) against the values instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache="${SENTIO_CACHE:-$HOME/.cache/sentio}"
bin="$cache/go-bin"
kube_version=1.33.0
chart=deploy/helm/sentio
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
step() { echo "--- $*"; }

step "tools"
mkdir -p "$bin"
[ -x "$bin/helm" ] || GOBIN="$bin" go install helm.sh/helm/v3/cmd/helm@v3.22.0
[ -x "$bin/kubeconform" ] || GOBIN="$bin" go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
helm="$bin/helm"
kubeconform="$bin/kubeconform"
"$helm" version --short
"$kubeconform" -v

schemas="$cache/k8s-schemas/kubernetes-validate-1.37.0"
if [ ! -f "$schemas/.ready" ]; then
  mkdir -p "$schemas"
  pip download kubernetes-validate==1.37.0 --no-deps -q -d "$schemas"
  (cd "$schemas" && python3 -m zipfile -e kubernetes_validate-1.37.0-py3-none-any.whl unpacked)
  for flavour in local local-strict; do
    src="$schemas/unpacked/kubernetes_validate/kubernetes-json-schema/v$kube_version-$flavour"
    mv "$src" "$schemas/v$kube_version-$flavour"
    # The schemas point at /api/_definitions.json (a server path); kubeconform reads files.
    find "$schemas/v$kube_version-$flavour" -name '*.json' -print0 |
      xargs -0 sed -i "s#\"/api/_definitions.json#\"file://$schemas/v$kube_version-$flavour/_definitions.json#g"
  done
  rm -rf "$schemas/unpacked"
  touch "$schemas/.ready"
fi

python3 -c 'import jsonschema, yaml' 2>/dev/null || pip install -q jsonschema pyyaml
crd_schemas=$(deploy/schemas/crd-schemas.sh)
compose_schema="$cache/compose-spec/compose.schema.json"
if [ ! -f "$compose_schema" ]; then
  mkdir -p "$(dirname "$compose_schema")"
  (cd "$(dirname "$compose_schema")" && npm pack dclint@3.1.0 --silent >/dev/null &&
    tar xzf dclint-3.1.0.tgz package/schemas/compose.schema.json -O >compose.schema.json && rm dclint-3.1.0.tgz)
fi

step "helm lint"
for values in "$chart"/values-*.yaml; do
  "$helm" lint "$chart" --strict --quiet -f "$values" --kube-version "$kube_version"
done

step "helm template + kubeconform (Kubernetes $kube_version and the operators' CRDs, strict)"
validate() { # rendered files...
  "$kubeconform" -strict -summary -kubernetes-version "$kube_version" \
    -schema-location "$schemas/{{.NormalizedKubernetesVersion}}-local{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json" \
    -schema-location "$crd_schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" \
    -skip ClickHouseInstallation,ClickHouseKeeperInstallation "$@"
}
render() { # name, helm flags...
  local name=$1
  shift
  "$helm" template sentio "$chart" --namespace sentio --kube-version "$kube_version" "$@" >"$out/$name.yaml"
  validate "$out/$name.yaml" | sed "s/^/$name: /"
}
render defaults
for size in small medium large; do render "$size" -f "$chart/values-$size.yaml"; done
render keda -f "$chart/values-medium.yaml" --set keda.enabled=true
render shared-models -f "$chart/values-large.yaml" \
  --set components.detectors.replicas=3,components.detectors.sharedModels.enabled=true,components.detectors.sharedModels.storageClassName=nfs
render external --set kafka.deploy=false,kafka.bootstrapServers=kafka:9092 \
  --set clickhouse.deploy=false,clickhouse.url=http://clickhouse:8123,clickhouse.cluster= \
  --set registry.deploy=false,registry.url=http://registry:8080/apis/ccompat/v7

step "CR fields the operators' schemas refuse (each a one-word change to a rendering that passed)"
mkdir "$out/broken" # not beside the renderings: the chart contracts read every file there
reject() { # kind, rendering, sed expression
  sed "$3" "$out/$2.yaml" >"$out/broken/$2.yaml"
  if cmp -s "$out/$2.yaml" "$out/broken/$2.yaml"; then
    echo "the change '$3' matched nothing in $2.yaml" >&2
    exit 1
  fi
  if validate "$out/broken/$2.yaml" >"$out/broken/result.txt"; then
    echo "kubeconform accepted $1 after '$3'" >&2
    exit 1
  fi
  echo "refused ($1, '$3'): $(grep -o "at '[^']*': .*" "$out/broken/result.txt" | head -1)"
}
reject Kafka defaults 's/^\(  *\)metadataVersion:/\1metadataVersoin:/'
reject KafkaNodePool defaults 's/^\(  *\)roles: \[broker\]/\1roles: [brokers]/'
reject ServiceMonitor defaults 's#^\(  *\)path: /metrics#\1metricsPath: /metrics#'
reject ScaledObject keda 's/^\(  *\)cooldownPeriod: 300/\1cooldownPeriod: 5m/'

step "kustomize manifests (the plain resources of base/ and the all-in-one overlay), kubeconform"
"$kubeconform" -strict -summary -kubernetes-version "$kube_version" \
  -schema-location "$schemas/{{.NormalizedKubernetesVersion}}-local{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json" \
  $(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml ! -name connectors.yaml | sort)

step "chart contracts"
python3 deploy/helm/check-rendered.py "$chart" "$out"

step "values the chart refuses"
refuse() { # reason, helm flags...
  local reason=$1
  shift
  if "$helm" template sentio "$chart" --kube-version "$kube_version" "$@" >/dev/null 2>"$out/refused.txt"; then
    echo "accepted, but must refuse: $reason" >&2
    exit 1
  fi
  echo "refused ($reason): $(grep -o 'components[^"]*\|[a-zA-Z.]* is required[^"]*' "$out/refused.txt" | head -1)"
}
refuse "two detectors processes without a shared model volume" --set components.detectors.replicas=2
refuse "ingest autoscaling beyond the partitions" --set components.ingest.autoscaling.maxReplicas=7
refuse "external Kafka without an address" --set kafka.deploy=false

step "production build (the image's build step): compiled CLI, production dependencies only"
NX_DAEMON=false npx nx run @sentio/cli:build
# Every installed package the compiled code imports must survive `npm ci --omit=dev` (the image's deps
# stage). Optional ones that are not installed at all (@tensorflow/tfjs-node) are loaded behind a fallback.
( npm ls --all --parseable --omit=dev 2>/dev/null || true ) | sed -n 's#.*/node_modules/##p' | sort -u >"$out/prod.txt"
( npm ls --all --parseable 2>/dev/null || true ) | sed -n 's#.*/node_modules/##p' | sort -u >"$out/all.txt"
node deploy/build/bare-imports.mjs dist/cli | sort -u >"$out/imports.txt"
dev_only=$(comm -12 "$out/imports.txt" <(comm -23 "$out/all.txt" "$out/prod.txt"))
if [ -n "$dev_only" ]; then echo "dist/cli imports dev-only packages: $dev_only" >&2; exit 1; fi
echo "compiled CLI imports $(wc -l <"$out/imports.txt") third-party packages, all production dependencies"
node --enable-source-maps dist/cli/tools/cli/src/main.js migrations print --cluster sentio | grep -c 'ENGINE = Distributed' |
  sed 's/^/compiled CLI rendered Distributed tables: /'

step "compose files against the Compose specification"
python3 - "$compose_schema" deploy/compose/all-in-one.yaml deploy/compose/split.yaml <<'PY'
import json, sys
import jsonschema, yaml
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(schema)
failed = False
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(yaml.safe_load(open(path))), key=lambda e: list(e.path))
    for e in errors:
        print(f"{path}: {'/'.join(map(str, e.path))}: {e.message}")
    print(f"{path}: {'valid' if not errors else f'{len(errors)} errors'}")
    failed |= bool(errors)
sys.exit(1 if failed else 0)
PY
echo "deploy checks passed"
