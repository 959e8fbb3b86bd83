#!/usr/bin/env bash
# Stops the daemons that up.sh started, by their pid files: radosgw first, the monitor last.
set -u
dir=${RGW_DIR:-/tmp/artifact-rgw}
for pidfile in "$dir"/run/client.rgw.local.pid "$dir"/run/osd.*.pid "$dir"/run/mon.*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "rgw/down: pid $pid ($pidfile) did not stop within 10 s; sending SIGKILL" >&2
    kill -9 "$pid"
  fi
done
