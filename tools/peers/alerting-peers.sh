#!/usr/bin/env bash
# Real peers of the alerting tests, cached under ~/.cache/sentio so a second run costs nothing:
# - Prometheus Alertmanager v0.31.1, built from the Go module proxy (v0.32+ do not build from the proxy:
#   their embedded UI assets are missing), at ~/.cache/sentio/go-bin/alertmanager;
# - aiosmtpd from PyPI, the SMTP server the email notifier is tested against.
set -euo pipefail
cache="${SENTIO_CACHE:-$HOME/.cache/sentio}"
bin="$cache/go-bin"
mkdir -p "$bin"
if [ ! -x "$bin/alertmanager" ]; then
  command -v go >/dev/null || { echo "alerting peers: Go toolchain missing (needed to build Alertmanager)" >&2; exit 1; }
  echo "building alertmanager v0.31.1 into $bin" >&2
  GOBIN="$bin" go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.31.1
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m pip install --quiet aiosmtpd
fi
"$bin/alertmanager" --version 2>&1 | head -1 >&2
