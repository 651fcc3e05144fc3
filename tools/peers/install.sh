#!/usr/bin/env bash
# Installs the real peers the connector integration tests talk to: Mosquitto (Debian package) and
# pymodbus (PyPI). Idempotent; needs root for apt-get.
set -euo pipefail
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  apt-get update -qq
  apt-get install -y -qq mosquitto >/dev/null
fi
python3 -c 'import pymodbus' 2>/dev/null || python3 -m pip install --quiet pymodbus
