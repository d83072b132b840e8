#!/usr/bin/env bash
# Builds the Ambit image from the repository's Dockerfile without any container registry.
#
# The Dockerfile's two base images are made here instead of pulled:
#   localhost/ambit-base:bookworm        a minimal Debian bookworm root (debootstrap, from the Debian mirror)
#                                         -> RUNTIME_IMAGE (the jlinked JDK is added by the Dockerfile)
#   localhost/ambit-build-base:bookworm-temurin25
#                                         the same root plus this machine's Temurin 25 JDK in /opt/java/openjdk
#                                         (where eclipse-temurin images keep it) -> BUILD_IMAGE
# then `podman build` runs the unchanged Dockerfile with --pull=never. The Maven build inside it still
# fetches from Maven Central (the one remote it needs); the host's ~/.m2 is mounted so what this machine
# already downloaded is reused, and a warm cache makes the build fast.
#
# Usage: scripts/image/build-offline.sh [--rebuild-bases]
# Env:   AMBIT_IMAGE (ambit:0.1.0)  AMBIT_BUILD_JDK (/usr/lib/jvm/temurin-25-jdk-amd64)
#        DEBIAN_MIRROR (http://deb.debian.org/debian)  AMBIT_IMAGE_WORK (/var/tmp/ambit-image)
#        AMBIT_IMAGE_M2 (~/.m2; "none" to mount nothing)
# Needs: root, and Debian's podman and debootstrap (apt-get install -y podman debootstrap); runc too where
# crun cannot run containers (podman-flags.sh says when).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image="${AMBIT_IMAGE:-ambit:0.1.0}"
jdk="${AMBIT_BUILD_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="${AMBIT_IMAGE_WORK:-/var/tmp/ambit-image}"
m2="${AMBIT_IMAGE_M2:-$HOME/.m2}"
base=localhost/ambit-base:bookworm
build_base=localhost/ambit-build-base:bookworm-temurin25

die() { echo "build-offline: $*" >&2; exit 1; }
step() { echo "build-offline: $*" >&2; }

rebuild=no
case "${1:-}" in
  "") ;;
  --rebuild-bases) rebuild=yes ;;
  *) die "unknown argument '$1' (expected: nothing or --rebuild-bases)" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (debootstrap and podman's root storage need it)"
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || die "$tool not found (expected: apt-get install -y $tool)"
done
[ -x "$jdk/bin/jlink" ] || die "no JDK 25 at $jdk (expected: AMBIT_BUILD_JDK pointing at a JDK 25 with jlink)"
"$jdk/bin/java" -version 2>&1 | grep -q 'version "25' || die "$jdk is not a JDK 25"

if [ "$rebuild" = yes ]; then
  podman image rm -f "$build_base" "$base" >/dev/null 2>&1 || true
  rm -rf "$work"
fi
mkdir -p "$work"

if ! podman image exists "$base"; then
  rootfs="$work/rootfs"
  if [ ! -f "$rootfs/.ambit-debootstrap-done" ]; then
    step "debootstrap bookworm (minbase) from $mirror into $rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $work/debootstrap.log"
    # no package cache or lists in the image; apt still works after an apt-get update
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    touch "$rootfs/.ambit-debootstrap-done"
  fi
  step "importing $base"
  tar -C "$rootfs" --exclude=./.ambit-debootstrap-done -cf - . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' - "$base" >/dev/null
fi

# what this machine needs to run containers (nothing on a usual host; runc and lower limits in some VMs)
mapfile -t run_flags < <("$(dirname "${BASH_SOURCE[0]}")/podman-flags.sh" "$base") \
  || die "podman cannot run containers here (see above)"
[ "${#run_flags[@]}" -eq 0 ] || step "podman flags for this machine: ${run_flags[*]}"

if ! podman image exists "$build_base"; then
  step "making $build_base with $jdk"
  ctx="$work/build-base"
  rm -rf "$ctx" && mkdir -p "$ctx"
  # -L: Debian's Temurin links lib/security/cacerts to /etc/ssl/certs/java/cacerts, which the image lacks
  cp -rL "$jdk" "$ctx/jdk"
  "$jdk/bin/keytool" -list -cacerts -storepass changeit >/dev/null 2>&1 \
    || die "$jdk has no usable cacerts (Maven Central's TLS needs it)"
  cat >"$ctx/Containerfile" <<EOF2
FROM $base
COPY jdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk \\
    PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN java -version && test "\$(keytool -list -cacerts -storepass changeit | grep -c trustedCertEntry)" -gt 0
EOF2
  podman build --pull=never --network none "${run_flags[@]}" -t "$build_base" "$ctx" >"$work/build-base.log" 2>&1 \
    || die "building $build_base failed; see $work/build-base.log"
  rm -rf "$ctx"
fi

mounts=()
if [ "$m2" != none ]; then
  mkdir -p "$m2"
  mounts=(--volume "$m2:/root/.m2")
fi
step "podman build $image (Dockerfile at $repo)"
start=$(date +%s)
podman build --pull=never --network host "${run_flags[@]}" "${mounts[@]}" \
  --build-arg "BUILD_IMAGE=$build_base" --build-arg "RUNTIME_IMAGE=$base" \
  -t "$image" -f "$repo/Dockerfile" "$repo"
step "built $image in $(( $(date +%s) - start )) s: $(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
podman run --rm "${run_flags[@]}" "$image" --version
