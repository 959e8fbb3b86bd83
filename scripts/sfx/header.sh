#!/bin/sh
# Self-extracting artifact release: this POSIX sh header, then the compressed program.
# The first run unpacks the program into a per-user cache folder named after its SHA-256,
# checks length and hash, and renames it into place, so concurrent first runs each write their
# own temporary file and the last rename wins with identical bytes. Every run then execs the
# cached copy, which keeps arguments, stdin, stdout, stderr and the exit code.
# The fields below are filled in by scripts/sfx/pack.ts; the payload starts at payload_offset.
program_sha256=@PROGRAM_SHA256@
program_size=@PROGRAM_SIZE@
payload_offset=@PAYLOAD_OFFSET@

cache_root=${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}
program=$cache_root/artifact/$program_sha256/artifact
if [ -n "$cache_root" ] && [ -x "$program" ]; then exec "$program" "$@"; fi

fail() {
  printf 'artifact: %s\n' "$2" >&2
  exit "$1"
}

require() {
  command -v "$1" >/dev/null 2>&1 ||
    fail 69 "$1 is missing but needed to unpack this release file; install $2, or use the uncompressed release file"
}

[ -n "$cache_root" ] || fail 73 "neither XDG_CACHE_HOME nor HOME is set, so there is no cache folder to unpack into; set one of them"
require tail coreutils
require tee coreutils
require sha256sum "coreutils (Debian, Ubuntu) or busybox (Alpine)"
require mktemp coreutils
require @DECOMPRESSOR_TOOL@ "@DECOMPRESSOR_PACKAGE@"

folder=${program%/artifact}
(umask 077 && mkdir -p "$folder") || fail 73 "cannot create the cache folder $folder; set XDG_CACHE_HOME to a writable folder"
partial=$(mktemp "$folder/.artifact.XXXXXX") || fail 73 "cannot create a temporary file in $folder; check its permissions and free space"
trap 'rm -f "$partial"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# tee writes the unpacked bytes while sha256sum hashes them, so both run at once.
actual_sha256=$(tail -c +"$payload_offset" "$0" | @DECOMPRESS_COMMAND@ | tee "$partial" | sha256sum)
actual_sha256=${actual_sha256%% *}
actual_size=$(wc -c <"$partial")
actual_size=${actual_size##* }
if [ "$actual_sha256" != "$program_sha256" ] || [ "$actual_size" != "$program_size" ]; then
  fail 65 "the payload of $0 unpacks to $actual_size bytes with SHA-256 $actual_sha256, expected $program_size bytes with $program_sha256; download the release file again and check it against SHA256SUMS"
fi

chmod 755 "$partial" && mv -f "$partial" "$program" ||
  fail 73 "cannot move the unpacked program to $program; check the permissions of $folder"
trap - EXIT
exec "$program" "$@"
exit 70
