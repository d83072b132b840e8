#!/usr/bin/env bash
# Prints, one per line, the podman flags this machine needs to run a container of IMAGE (nothing on a
# usual host). Some sandboxed VMs refuse what podman asks by default: crun cannot work with a hybrid
# cgroup v1/v2 tree, and the OCI runtime may not set RLIMIT_NOFILE/RLIMIT_NPROC to the host's maximum.
# Then runc (Debian's runc) with explicit, lower limits works. Used by build-offline.sh and the image test.
#   scripts/image/podman-flags.sh IMAGE
set -euo pipefail
image="${1:?usage: podman-flags.sh IMAGE}"
if err=$(podman run --rm --pull=never --network none --entrypoint /bin/true "$image" 2>&1); then
  exit 0
fi
fallback=(--ulimit nofile=16384:16384 --ulimit nproc=8192:8192)
if command -v runc >/dev/null; then
  fallback=(--runtime runc "${fallback[@]}")
fi
if err2=$(podman run --rm --pull=never --network none "${fallback[@]}" --entrypoint /bin/true "$image" 2>&1); then
  printf '%s\n' "${fallback[@]}"
  exit 0
fi
echo "podman-flags: cannot run a container of $image here." >&2
echo "  with podman's defaults: $err" >&2
echo "  with ${fallback[*]}: $err2" >&2
command -v runc >/dev/null || echo "  (runc is not installed: apt-get install -y runc may help)" >&2
exit 1
