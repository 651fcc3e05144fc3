#!/usr/bin/env bash
# Installs the real peers the connector integration tests talk to: Mosquitto and openssl (Debian packages),
# pymodbus and asyncua (PyPI), and Home Assistant Core in its own venv. Idempotent; needs root for apt-get.
set -euo pipefail
missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import pymodbus' 2>/dev/null || python3 -m pip install --quiet pymodbus
python3 -c 'import asyncua' 2>/dev/null || python3 -m pip install --quiet asyncua

# Home Assistant Core 2024.3.3 is the newest release that runs on Python 3.11 (2024.4 needs 3.12); josepy
# is held below 2, whose removals break that release's start-up. Keep in step with home-assistant-core.ts.
ha_venv=${SENTIO_HA_VENV:-$HOME/.cache/sentio/ha-venv}
if [ ! -x "$ha_venv/bin/hass" ]; then
  python3 -m venv "$ha_venv"
  "$ha_venv/bin/pip" install --quiet homeassistant==2024.3.3 'josepy<2'
fi
