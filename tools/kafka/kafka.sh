#!/usr/bin/env bash
# Runs a single-node Apache Kafka (KRaft, broker+controller) from the Maven Central jars
# that install.sh resolved. Usage: kafka.sh start|stop|wait|status|perf-producer ARGS
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/env.sh"

port=${SENTIO_KAFKA_PORT:-9092}
controller_port=${SENTIO_KAFKA_CONTROLLER_PORT:-9093}
data=${SENTIO_KAFKA_DATA:-${SENTIO_STATE_DIR}/kafka}
pidfile="$data/kafka.pid"
cp_jars="$KAFKA_LIBS/*"

java_run() {
  java -Xms512m -Xmx${SENTIO_KAFKA_HEAP:-1g} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$data/logs" -Dlog4j2.configurationFile="$here/log4j2.yaml" \
    -cp "$cp_jars" "$@"
}

write_config() {
  mkdir -p "$data/logs" "$data/log-dirs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller_port}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/log-dirs
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
num.network.threads=2
num.io.threads=4
PROPS
}

is_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

wait_ready() {
  local deadline=$((SECONDS + ${1:-90}))
  until (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do
    is_running || { echo "kafka exited; see $data/logs/server.log" >&2; tail -20 "$data/logs/server.log" >&2 || true; return 1; }
    [ $SECONDS -lt $deadline ] || { echo "kafka not ready on :$port" >&2; return 1; }
    sleep 0.5
  done
  # The port opens before the broker has joined its own quorum; wait for the log line that says it serves.
  until grep -q "Kafka Server started" "$data/logs/server.log" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "kafka did not finish starting" >&2; return 1; }
    sleep 0.5
  done
  echo "kafka ready on 127.0.0.1:$port (data $data)"
}

case "${1:-}" in
  start)
    if is_running; then echo "kafka already running (pid $(cat "$pidfile"))"; exit 0; fi
    [ -d "$KAFKA_LIBS" ] || "$here/install.sh"
    write_config
    if [ ! -f "$data/log-dirs/meta.properties" ]; then
      java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
        -c "$data/server.properties" >/dev/null
    fi
    nohup java -Xms512m -Xmx${SENTIO_KAFKA_HEAP:-1g} -XX:+UseG1GC -Djava.awt.headless=true \
      -Dkafka.logs.dir="$data/logs" -Dlog4j2.configurationFile="$here/log4j2.yaml" \
      -cp "$cp_jars" kafka.Kafka "$data/server.properties" >"$data/logs/stdout.log" 2>&1 &
    echo $! > "$pidfile"
    wait_ready "${SENTIO_KAFKA_START_TIMEOUT:-90}"
    ;;
  wait) wait_ready "${2:-90}" ;;
  status) if is_running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  stop)
    if is_running; then
      pid=$(cat "$pidfile"); kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"; echo "kafka stopped"
    ;;
  reset) "$0" stop; rm -rf "$data"; echo "kafka data removed" ;;
  perf-producer) shift; java_run org.apache.kafka.tools.ProducerPerformance "$@" ;;
  topics) shift; java_run org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:"$port" "$@" ;;
  *) echo "usage: $0 start|stop|wait|status|reset|topics ARGS|perf-producer ARGS" >&2; exit 2 ;;
esac
