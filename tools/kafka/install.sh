#!/usr/bin/env bash
# Resolves the Kafka broker and tools jars from Maven Central into the cache (idempotent).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/env.sh"
if [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; then echo "kafka $KAFKA_VERSION jars in $KAFKA_LIBS"; exit 0; fi
echo "resolving kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIBS"
mvn -q -B -f "$here/pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
  -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime
echo "kafka $KAFKA_VERSION jars in $KAFKA_LIBS"
