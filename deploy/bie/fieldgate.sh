#!/bin/sh
# Entry of the fieldgate program package (program.yml: entry: "fieldgate.sh").
#
# Baetyl's native (process) mode starts this file with the working directory set to the service
# instance folder, where each configuration volume appears under its mount path: a volume mounted
# at /etc/fieldgate is ./etc/fieldgate there (baetyl ami/native/native.go). Arguments from the
# application's service config are passed to fieldgate unchanged; with none, the gateway runs the
# configuration in $FIELDGATE_CONF, else ./etc/fieldgate, else /etc/fieldgate.
#
# Node.js >= 20.10 comes from $FIELDGATE_NODE, else node/bin/node in this package (when it was
# built with --node), else `node` on PATH, else /usr/local/bin/node or /usr/bin/node.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

node_bin=${FIELDGATE_NODE:-}
if [ -z "$node_bin" ]; then
  if [ -x "$here/node/bin/node" ]; then
    node_bin=$here/node/bin/node
  elif command -v node >/dev/null 2>&1; then
    node_bin=$(command -v node)
  else
    for candidate in /usr/local/bin/node /usr/bin/node; do
      if [ -x "$candidate" ]; then node_bin=$candidate; break; fi
    done
  fi
fi
if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then
  echo "fieldgate: Node.js >= 20.10 not found; install it on this host, set FIELDGATE_NODE=/path/to/node, or build the package with --node" >&2
  exit 1
fi

version=$("$node_bin" -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
case "$major$minor" in *[!0-9]*|'') major=0; minor=0 ;; esac
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 10 ]; }; then
  echo "fieldgate: needs Node.js >= 20.10, but $node_bin is $version" >&2
  exit 1
fi

if [ "$#" -eq 0 ]; then
  conf=${FIELDGATE_CONF:-}
  if [ -z "$conf" ]; then
    for dir in "$PWD/etc/fieldgate" /etc/fieldgate; do
      if [ -f "$dir/gateway.yaml" ]; then conf=$dir; break; fi
    done
  fi
  if [ -z "$conf" ]; then
    echo "fieldgate: no configuration: mount the conf volume at /etc/fieldgate (looked for gateway.yaml in $PWD/etc/fieldgate and /etc/fieldgate) or set FIELDGATE_CONF" >&2
    exit 2
  fi
  set -- run -c "$conf"
fi

# exec: the gateway gets the signals (SIGTERM stops it, SIGHUP reloads its configuration).
exec "$node_bin" "$here/bin/fieldgate.mjs" "$@"
