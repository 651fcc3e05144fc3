#!/usr/bin/env bash
# Runs Mosquitto in the foreground on 127.0.0.1:PORT with anonymous access, for tests.
# Usage: mosquitto.sh PORT. The caller owns the process (exec), so killing it stops the broker.
set -euo pipefail
port=${1:?usage: mosquitto.sh PORT}
bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$bin" ] || { echo "mosquitto not installed: run tools/peers/install.sh" >&2; exit 1; }
# The configuration is handed over on a file descriptor (a here-document), not in a temporary folder that
# would be left behind when the broker is killed.
exec "$bin" -c /dev/fd/3 3<<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
log_dest stderr
log_type error
log_type warning
CONF
