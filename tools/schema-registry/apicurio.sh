#!/usr/bin/env bash
# Runs Apicurio Registry 2.4.2 with its Confluent-compatible API at
# http://127.0.0.1:$SENTIO_REGISTRY_PORT/apis/ccompat/v7 (also /apis/ccompat/v6 and /apis/registry/v2).
# The runnable app is built once from Maven Central jars by apicurio.pom.xml into the cache.
#
# Usage: apicurio.sh install|start|stop|restart|wait [SECS]|status
# Env:   SENTIO_REGISTRY_PORT (8081), SENTIO_STATE_DIR (/tmp/sentio), SENTIO_CACHE (~/.cache/sentio),
#        SENTIO_REGISTRY_DATA ($SENTIO_STATE_DIR/registry), SENTIO_REGISTRY_HEAP (256m),
#        SENTIO_REGISTRY_START_TIMEOUT (60 s).
#
# Storage: an H2 database file, $SENTIO_REGISTRY_DATA/db/registry.mv.db, so schema ids survive restarts
# (Kafka records carry them). Apicurio's KafkaSQL storage would keep them in Kafka instead, but its module
# (io.apicurio:apicurio-registry-storage-kafkasql) is not on the Maven Central we reach, for any version.
# The H2 file sits in the same state dir as tools/kafka's data, so the two are kept or wiped together.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

APICURIO_VERSION=2.4.2.Final   # must match apicurio.pom.xml
SENTIO_CACHE=${SENTIO_CACHE:-$HOME/.cache/sentio}
SENTIO_STATE_DIR=${SENTIO_STATE_DIR:-${TMPDIR:-/tmp}/sentio}
app="$SENTIO_CACHE/apicurio-$APICURIO_VERSION"
runner="$app/apicurio-runtime-1-runner.jar"
stamp="$app/.pom.sha256"
port=${SENTIO_REGISTRY_PORT:-8081}
data=${SENTIO_REGISTRY_DATA:-$SENTIO_STATE_DIR/registry}
pidfile="$data/registry.pid"
log="$data/registry.log"
api="http://127.0.0.1:$port/apis/ccompat/v7"

install() {
  # Rebuild only when the POM changed since the last good build (the stamp is written last).
  local want; want=$(sha256sum "$here/apicurio.pom.xml" | cut -d' ' -f1)
  [ -f "$runner" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  if is_running; then echo "registry is running from $app: stop it before rebuilding" >&2; return 1; fi
  echo "building Apicurio Registry $APICURIO_VERSION into $app" >&2
  rm -rf "$app"   # no stale jars from an older POM
  mvn -B -q -Dstyle.color=never -f "$here/apicurio.pom.xml" -Dsentio.cache="$SENTIO_CACHE" package >&2
  echo "$want" > "$stamp"
}

is_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

wait_ready() {
  local deadline=$((SECONDS + ${1:-60}))
  until curl -sf -o /dev/null "$api/subjects"; do
    if ! is_running; then
      echo "schema registry JVM died during start-up; first error, then the last lines of $log:" >&2
      grep -m1 ' ERROR ' "$log" >&2 || true
      echo "..." >&2
      tail -n 20 "$log" >&2 || true
      rm -f "$pidfile"
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "schema registry not ready at $api after ${1:-60}s; last lines of $log:" >&2
      tail -n 25 "$log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
  echo "schema registry ready at $api"
}

start() {
  if is_running; then echo "registry already running (pid $(cat "$pidfile"))"; return 0; fi
  install
  # Otherwise wait_ready could take another process on the port for ours.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use (another registry? set SENTIO_REGISTRY_PORT)" >&2; return 1
  fi
  mkdir -p "$data/db"
  # WRITE_DELAY=0: H2 flushes each commit, so a registered id survives even a kill -9.
  nohup java -Xms64m -Xmx"${SENTIO_REGISTRY_HEAP:-256m}" -XX:+UseSerialGC \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$data/db/registry;WRITE_DELAY=0" \
    -Dregistry.enable.sentry=false -Dquarkus.log.console.color=false \
    -jar "$runner" >"$log" 2>&1 &
  echo $! > "$pidfile"
  wait_ready "${SENTIO_REGISTRY_START_TIMEOUT:-60}"
}

stop() {
  if is_running; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid"   # SIGTERM: Quarkus closes the H2 database cleanly
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    echo "registry stopped"
  else
    echo "registry not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  wait) wait_ready "${2:-60}" ;;
  status) if is_running; then echo "running (pid $(cat "$pidfile")) at $api"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|restart|wait [SECS]|status" >&2; exit 2 ;;
esac
