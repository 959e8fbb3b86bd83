#!/usr/bin/env bash
# Runs the whole test suite: builds the binary, provisions Ceph RGW (Debian/Ubuntu, as root) so
# the tests against a real S3 server run, and stops every daemon it started, also on failure.
# Outside CI a machine without apt or root still runs the rest; the RGW tests then report
# themselves skipped with the reason. In CI (CI=true) a failed provisioning fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

rgw_started=0

stop_rgw() {
  if [ "$rgw_started" = 1 ]; then bash scripts/rgw/down.sh; fi
}
trap stop_rgw EXIT

bun scripts/build.ts

if [ -n "${ARTIFACT_TEST_RGW_ENDPOINT:-}" ]; then
  echo "test: using the S3 endpoint in ARTIFACT_TEST_RGW_ENDPOINT ($ARTIFACT_TEST_RGW_ENDPOINT)"
else
  export RGW_DIR=${RGW_DIR:-$PWD/.ci-work/rgw}
  if bash scripts/rgw/install.sh && bash scripts/rgw/up.sh; then
    rgw_started=1
    # shellcheck disable=SC1091
    source "$RGW_DIR/env"
  elif [ "${CI:-}" = true ]; then
    echo "test: Ceph RGW could not be provisioned, and CI must run the tests against it" >&2
    exit 1
  else
    echo "test: Ceph RGW could not be provisioned; the tests that need it will be skipped" >&2
  fi
fi

# The quick start is the end-to-end test: the whole flow through the compiled binary.
if [ $# -eq 0 ]; then bun scripts/quickstart.ts; fi

# Bun's summary ("N pass", "N fail", "N skip" on separate lines) becomes one closing line.
log=$(mktemp)
set +e
bun test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
count() {
  local number
  number=$(grep -E "^ *[0-9]+ $1\$" "$log" | tail -n 1 | tr -dc '0-9')
  echo "${number:-0}"
}
echo "tests: $(count pass) passed, $(count fail) failed, $(count skip) skipped"
rm -f "$log"
exit "$status"
