#!/usr/bin/env bash
# Builds the regiongate image FROM scratch with buildah, around the static
# binary `make build` left in bin/ (make image runs this). No registry is
# involved: everything in the image comes from this machine.
#   IMAGE    tag to build (regiongate:dev)
#   VERSION  what `regiongate --version` says, for the image's label
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-regiongate:dev}
VERSION=${VERSION:-unknown}
BUILDAH=(buildah --storage-driver vfs)
CA=/etc/ssl/certs/ca-certificates.crt

if ! go version -m bin/regiongate 2>/dev/null | grep -q 'CGO_ENABLED=0'; then
	echo "bin/regiongate is missing or not static: run make build (CGO_ENABLED=0)" >&2
	exit 1
fi
if [ ! -s "$CA" ]; then
	echo "$CA is missing: apt-get install -y ca-certificates" >&2
	exit 1
fi

# The build context: rootfs/ is copied to / as root-owned, state/ becomes
# the state dir owned by the image's user.
ctx=bin/image-context
rm -rf "$ctx"
mkdir -p "$ctx"/rootfs/{configs,etc/ssl/certs,tmp} "$ctx"/state
install -m 0755 bin/regiongate "$ctx"/rootfs/regiongate
install -m 0644 configs/dev.yaml "$ctx"/rootfs/configs/dev.yaml
install -m 0644 "$CA" "$ctx"/rootfs/etc/ssl/certs/ca-certificates.crt
install -m 0644 deploy/image/passwd deploy/image/group "$ctx"/rootfs/etc/
chmod 1777 "$ctx"/rootfs/tmp
chmod 0700 "$ctx"/state
cp deploy/image/Containerfile "$ctx"/

previous=$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE" 2>/dev/null || true)
start=$(date +%s)
"${BUILDAH[@]}" bud --isolation chroot --layers=false --build-arg VERSION="$VERSION" \
	-f "$ctx"/Containerfile -t "$IMAGE" "$ctx"
echo "built $IMAGE ($VERSION) in $(($(date +%s) - start)) s"
# vfs keeps a full copy per image: drop the one this build replaced.
current=$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
	"${BUILDAH[@]}" rmi "$previous" >/dev/null || true
fi
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.ID}} {{.Size}}' "$IMAGE"
