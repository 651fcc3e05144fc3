#!/usr/bin/env bash
# Builds the kubeconform JSON schemas of the operator resources the Helm chart renders, once, into
# $SENTIO_CACHE/crd-schemas/<versions>, and prints that folder (layout {group}/{kind}_{version}.json, i.e.
# kubeconform's `-schema-location <folder>/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`).
# Everything comes from the registries this project uses, nothing is vendored:
#  - KEDA (ScaledObject) and the Prometheus Operator (ServiceMonitor): the CRD files in their Go modules,
#    through the module proxy;
#  - Strimzi (Kafka, KafkaNodePool): no CRD file is published to a registry, so they are generated the way
#    Strimzi's own build generates them: its crd-generator (io.strimzi:crd-generator) run on its model
#    classes (io.strimzi:api), both from Maven Central at the same version, with the arguments of its api
#    module's build. Both are compiled for Java 21, so a JDK 21 or newer is looked for (JAVA_HOME, then
#    /usr/lib/jvm: this machine kind carries a Temurin JDK beside Debian's OpenJDK 17);
#  - converted to JSON schemas by kubeconform's own scripts/openapi2jsonschema.py (in its Go module, at the
#    version check.sh builds), which closes every object that lists its properties
#    (`additionalProperties: false`, the root included), so a misspelled field fails validation.
# The Altinity ClickHouse operator's CRDs are in no registry reached from here (its Go module is refused by
# the proxy; no npm, PyPI or Maven package carries them): check.sh skips those kinds.
# Cold: about 2 minutes (Maven resolution, the generator, two module downloads); warm: instant.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SENTIO_CACHE:-$HOME/.cache/sentio}"
keda_version=v2.21.0
prometheus_operator_version=v0.85.0
strimzi_version=1.2.0
kubeconform_version=v0.8.0
dir="$cache/crd-schemas/keda-$keda_version-prometheus-operator-$prometheus_operator_version-strimzi-$strimzi_version"
if [ -f "$dir/.ready" ]; then
  echo "$dir"
  exit 0
fi

module_dir() { # module@version -> its folder in the module cache (downloaded if needed)
  go mod download -json "$1" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["Dir"]) if "Dir" in m else sys.exit(m.get("Error", "no Dir"))'
}

java21() { # the first java binary of version 21 or newer
  local home major
  for home in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$home" ] && [ -x "$home/bin/java" ] || continue
    major=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${major%%.*}" -ge 21 ] 2>/dev/null; then
      echo "$home/bin/java"
      return
    fi
  done
  echo "crd-schemas: Strimzi's crd-generator needs Java 21 or newer; none in JAVA_HOME or /usr/lib/jvm" >&2
  return 1
}

work="$dir.tmp"
rm -rf "$work"
mkdir -p "$work/crds"

keda=$(module_dir "github.com/kedacore/keda/v2@$keda_version")
cp "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$work/crds/"
prometheus_operator=$(module_dir "github.com/prometheus-operator/prometheus-operator@$prometheus_operator_version")
cp "$prometheus_operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$work/crds/"

java=$(java21)
mvn -q -B -Dstyle.color=never -f "$here/strimzi.pom.xml" -Dstrimzi.version="$strimzi_version" \
  dependency:build-classpath -Dmdep.outputFile="$work/strimzi.classpath" >&2
# As Strimzi's api/pom.xml runs it for the CRDs it installs (this version serves kafka.strimzi.io/v1 only).
"$java" -cp "$(cat "$work/strimzi.classpath")" io.strimzi.crdgenerator.CrdGenerator \
  --target-kube 1.16+ --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
  io.strimzi.api.kafka.model.kafka.Kafka="$work/crds/kafka.strimzi.io_kafkas.yaml" \
  io.strimzi.api.kafka.model.nodepool.KafkaNodePool="$work/crds/kafka.strimzi.io_kafkanodepools.yaml" >&2

converter="$(module_dir "github.com/yannh/kubeconform@$kubeconform_version")/scripts/openapi2jsonschema.py"
for crd in "$work"/crds/*.yaml; do
  group=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["group"])' "$crd")
  mkdir -p "$work/$group"
  # The converter writes {kind}_{version}.json into the current folder.
  (cd "$work/$group" && DENY_ROOT_ADDITIONAL_PROPERTIES=1 python3 "$converter" "$crd" >/dev/null)
done
rm -rf "$work/crds" "$work/strimzi.classpath"
touch "$work/.ready"
rm -rf "$dir"
mv "$work" "$dir"
echo "$dir"
