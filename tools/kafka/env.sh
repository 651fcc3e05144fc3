# Shared locations for the Kafka scripts; sourced, not run.
KAFKA_VERSION=${SENTIO_KAFKA_VERSION:-4.1.1}
SENTIO_CACHE=${SENTIO_CACHE:-$HOME/.cache/sentio}
SENTIO_STATE_DIR=${SENTIO_STATE_DIR:-${TMPDIR:-/tmp}/sentio}
KAFKA_LIBS="$SENTIO_CACHE/kafka-$KAFKA_VERSION/libs"
