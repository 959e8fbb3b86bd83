#!/usr/bin/env bash
# Installs a single-node Ceph (monitor, OSD, RADOS Gateway) from the distribution's packages, plus
# the S3 clients that the tests run against the built-in store. Debian and Ubuntu only; needs root.
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd uuid-runtime curl awscli s3cmd rclone time)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "rgw/install: all packages present"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "rgw/install: apt-get not found; install ${missing[*]} by hand (Debian/Ubuntu packages)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "rgw/install: needs root to install ${missing[*]}; rerun as root or install them by hand" >&2
  exit 1
fi

echo "rgw/install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
