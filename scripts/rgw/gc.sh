#!/usr/bin/env bash
# Frees the space of deleted objects now: radosgw keeps it for two hours by default, which fills
# the in-memory OSD during long test or benchmark runs.
set -euo pipefail
export CEPH_CONF=${RGW_DIR:-/tmp/artifact-rgw}/ceph.conf
timeout 120 radosgw-admin gc process --include-all
