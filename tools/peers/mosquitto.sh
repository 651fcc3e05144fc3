#!/usr/bin/env bash
# Runs Mosquitto in the foreground on 127.0.0.1:PORT with anonymous access, for tests.
# Usage: mosquitto.sh PORT. The caller owns the process (exec), so killing it stops the broker.
set -euo pipefail
port=${1:?usage: mosquitto.sh PORT}
bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$bin" ] || { echo "mosquitto not installed: run tools/peers/install.sh" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/sentio-mosquitto-XXXXXX")
cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
log_dest stderr
log_type error
log_type warning
CONF
exec "$bin" -c "$dir/mosquitto.conf"
