#!/usr/bin/env bash
# Starts one Ceph monitor, one OSD and radosgw on 127.0.0.1 without systemd or disks, then creates
# an S3 user with a fixed key pair. Writes the endpoint and keys to $RGW_DIR/env for the tests.
#   RGW_DIR     state, logs and pid files (default /tmp/artifact-rgw)
#   RGW_PORT    S3 port (default 7480)
#   OBJECTSTORE memstore (default, in memory) or bluestore (in a sparse file under RGW_DIR)
#   RGW_CAPACITY_BYTES  size of the OSD (default 8 GiB); benchmarks of 4 GiB objects want more
set -euo pipefail

dir=${RGW_DIR:-/tmp/artifact-rgw}
store=${OBJECTSTORE:-memstore}
capacity=${RGW_CAPACITY_BYTES:-8589934592}
port=${RGW_PORT:-7480}
access_key=${RGW_ACCESS_KEY:-artifacttestaccesskey01}
secret_key=${RGW_SECRET_KEY:-artifacttestsecretkey000000000000000000001}
started=$(date +%s%N)

step() {
  local ms=$(( ($(date +%s%N) - started) / 1000000 ))
  printf 'rgw/up [%d.%03d s] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"
}

rm -rf "$dir"
mkdir -p "$dir"/{mon/ceph-a,osd/ceph-0,rgw,log,run,crash}
fsid=$(uuidgen)
export CEPH_CONF=$dir/ceph.conf

# One replica, few placement groups and no manager: the smallest cluster radosgw will run on.
cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
mon initial members = a
public network = 127.0.0.0/8
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = $store
memstore device bytes = $capacity
bluestore block path = $dir/osd/\$cluster-\$id/block.file
bluestore block create = true
bluestore block size = $capacity
bluestore cache size = 134217728
osd memory target = 939524096
bluestore fsck on mount = false
osd op num shards = 1
osd op num threads per shard = 2

[mon]
keyring = \$mon_data/keyring
[osd]
keyring = \$osd_data/keyring
[client]
keyring = $dir/\$cluster.\$name.keyring

[client.rgw.local]
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$port
rgw thread pool size = 64
rgw enable usage log = false
rgw dns name = 127.0.0.1
# Free the space of deleted objects within a minute instead of two hours, so long test runs do not
# fill the in-memory OSD.
rgw gc obj min wait = 30
rgw gc processor period = 30
CONF

ceph-authtool --create-keyring "$dir/ceph.mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/ceph.client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$dir/ceph.mon.keyring" --import-keyring "$dir/ceph.client.admin.keyring" >/dev/null
monmaptool --create --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon --cluster ceph -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/ceph.mon.keyring"
ceph-mon -i a
timeout 60 ceph -s --connect-timeout 30 >/dev/null
step "monitor answers"

osd_uuid=$(uuidgen)
osd_secret=$(ceph-authtool --gen-print-key)
osd_id=$(echo "{\"cephx_secret\": \"$osd_secret\"}" | timeout 30 ceph osd new "$osd_uuid" -i -)
ceph-authtool --create-keyring "$dir/osd/ceph-$osd_id/keyring" --name "osd.$osd_id" --add-key "$osd_secret" >/dev/null
ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.log" 2>&1
timeout 30 ceph osd crush add-bucket localhost host >/dev/null 2>&1
timeout 30 ceph osd crush move localhost root=default >/dev/null 2>&1
timeout 30 ceph osd crush add "osd.$osd_id" 1.0 host=localhost >/dev/null 2>&1
ceph-osd -i "$osd_id"
up=0
for _ in $(seq 1 120); do
  if timeout 10 ceph osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1'; then up=1; break; fi
  sleep 0.5
done
[ "$up" = 1 ] || { echo "rgw/up: OSD did not come up; see $dir/log/osd.$osd_id.log" >&2; exit 1; }
step "OSD up ($store)"

timeout 30 ceph auth get-or-create client.rgw.local mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
  -o "$dir/ceph.client.rgw.local.keyring"
radosgw -n client.rgw.local
code=000
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done
[ "$code" = 200 ] || { echo "rgw/up: radosgw not responding on port $port (last status $code); see $dir/log" >&2; exit 1; }
timeout 60 radosgw-admin user create --uid=artifact-test --display-name="artifact tests" \
  --access-key="$access_key" --secret-key="$secret_key" >/dev/null

cat >"$dir/env" <<ENV
export ARTIFACT_TEST_RGW_ENDPOINT=http://127.0.0.1:$port
export ARTIFACT_TEST_RGW_ACCESS_KEY=$access_key
export ARTIFACT_TEST_RGW_SECRET_KEY=$secret_key
export ARTIFACT_TEST_RGW_REGION=us-east-1
ENV
step "radosgw ready on http://127.0.0.1:$port; keys in $dir/env"
