#!/usr/bin/env bash
# A three-broker Apache Kafka cluster on this machine (KRaft: each node broker and controller, a static
# quorum of three voters), replication factor 3 and min.insync.replicas 2 by default, so one node may be
# stopped or killed with every partition still writable. For the consumer-group scaling tests
# (test/integration/scale-*.test.ts) and for trying replication by hand. Same jars as kafka.sh.
#
#   tools/kafka/cluster.sh start|stop|status|wait|reset|bootstrap|stop-node N|start-node N
#
# Ports: brokers SENTIO_KAFKA_CLUSTER_PORT (default 29092) +0, +1, +2; controllers the same +100.
# Data: SENTIO_KAFKA_CLUSTER_DATA (default $SENTIO_STATE_DIR/kafka-cluster-<port>), one folder per node.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/env.sh"

base=${SENTIO_KAFKA_CLUSTER_PORT:-29092}
data=${SENTIO_KAFKA_CLUSTER_DATA:-${SENTIO_STATE_DIR}/kafka-cluster-$base}
heap=${SENTIO_KAFKA_CLUSTER_HEAP:-384m}
nodes=(1 2 3)
cp_jars="$KAFKA_LIBS/*"

broker_port() { echo $((base + $1 - 1)); }
controller_port() { echo $((base + 100 + $1 - 1)); }
node_dir() { echo "$data/node-$1"; }
pidfile() { echo "$(node_dir "$1")/kafka.pid"; }

java_tool() {
  java -Xmx256m -Dlog4j2.configurationFile="$here/log4j2.yaml" -Dkafka.logs.dir="$data" -cp "$cp_jars" "$@"
}

write_config() { # node
  local n=$1 dir voters=""
  dir=$(node_dir "$n")
  for v in "${nodes[@]}"; do voters+="${voters:+,}$v@127.0.0.1:$(controller_port "$v")"; done
  mkdir -p "$dir/logs" "$dir/log-dirs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/log-dirs
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
PROPS
}

is_running() { local f; f=$(pidfile "$1"); [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

start_node() { # node
  local n=$1 dir
  dir=$(node_dir "$n")
  if is_running "$n"; then return 0; fi
  write_config "$n"
  if [ ! -f "$dir/log-dirs/meta.properties" ]; then
    java_tool kafka.tools.StorageTool format -t "$(cat "$data/cluster-id")" -c "$dir/server.properties" >/dev/null
  fi
  : >"$dir/logs/server.log"
  nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$here/log4j2.yaml" \
    -cp "$cp_jars" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$(pidfile "$n")"
}

stop_node() { # node [signal]
  local n=$1 signal=${2:-TERM} pid
  if is_running "$n"; then
    pid=$(cat "$(pidfile "$n")")
    kill -"$signal" "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$(pidfile "$n")"
}

wait_ready() { # timeout seconds
  local deadline=$((SECONDS + ${1:-120})) n
  for n in "${nodes[@]}"; do
    until grep -q "Kafka Server started" "$(node_dir "$n")/logs/server.log" 2>/dev/null; do
      if ! is_running "$n"; then
        echo "kafka node $n exited; see $(node_dir "$n")/logs" >&2
        tail -20 "$(node_dir "$n")/logs/stdout.log" >&2 || true
        return 1
      fi
      [ $SECONDS -lt $deadline ] || { echo "kafka node $n not ready" >&2; return 1; }
      sleep 0.5
    done
  done
  echo "kafka cluster ready: $(bootstrap) (data $data)"
}

bootstrap() {
  local list="" n
  for n in "${nodes[@]}"; do list+="${list:+,}127.0.0.1:$(broker_port "$n")"; done
  echo "$list"
}

case "${1:-}" in
  start)
    [ -d "$KAFKA_LIBS" ] || "$here/install.sh"
    mkdir -p "$data"
    [ -f "$data/cluster-id" ] || java_tool kafka.tools.StorageTool random-uuid >"$data/cluster-id"
    for n in "${nodes[@]}"; do start_node "$n"; done
    wait_ready "${SENTIO_KAFKA_START_TIMEOUT:-180}"
    ;;
  wait) wait_ready "${2:-120}" ;;
  bootstrap) bootstrap ;;
  status)
    for n in "${nodes[@]}"; do
      if is_running "$n"; then echo "node $n running (pid $(cat "$(pidfile "$n")"), :$(broker_port "$n"))"; else echo "node $n stopped"; fi
    done
    ;;
  stop-node) stop_node "${2:?node 1-3}" "${3:-TERM}" ;;
  start-node) start_node "${2:?node 1-3}" ;;
  stop) for n in "${nodes[@]}"; do stop_node "$n"; done; echo "kafka cluster stopped" ;;
  reset) "$0" stop; rm -rf "$data"; echo "kafka cluster data removed" ;;
  *) echo "usage: $0 start|stop|status|wait|reset|bootstrap|stop-node N [signal]|start-node N" >&2; exit 2 ;;
esac
