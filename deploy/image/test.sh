#!/usr/bin/env bash
# Runs the binary inside the image with buildah (make image-test): the
# image's user is numeric and not root, --version says the expected version,
# the dev config in the image validates, and that user cannot write the
# root filesystem; and the Dockerfile's final stage runs the image the same
# way. Fails on the first check that does not hold.
#   IMAGE    tag to test (regiongate:dev)
#   VERSION  what --version must say
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-regiongate:dev}
VERSION=${VERSION:-}
BUILDAH=(buildah --storage-driver vfs)

fail() { echo "image-test: $*" >&2; exit 1; }

# The two images differ in how they are built, not in how they run.
runtime='^(USER|WORKDIR|EXPOSE|ENTRYPOINT|CMD) '
final_stage() { awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' "$1" | grep -E "$runtime"; }
if ! diff <(final_stage Dockerfile) <(final_stage deploy/image/Containerfile); then
	fail "Dockerfile and deploy/image/Containerfile run the image differently (lines above)"
fi
echo "ok: Dockerfile and Containerfile agree on user, workdir, ports, entrypoint and command"

user=$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
case "$user" in
	0 | 0:* | root* | "") fail "image user is '$user', want a numeric non-root user" ;;
	*[!0-9:]*) fail "image user '$user' is not numeric (Kubernetes' runAsNonRoot needs a uid)" ;;
esac
echo "ok: image user $user"

ctr=$("${BUILDAH[@]}" from "$IMAGE")
trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null' EXIT
# `buildah run` takes the user from the image, as a container runtime would.
run() { "${BUILDAH[@]}" run --isolation chroot "$ctr" -- /regiongate "$@"; }

out=$(run --version)
[[ $out == "regiongate version ${VERSION}"* ]] || fail "--version said '$out', want 'regiongate version $VERSION...'"
echo "ok: $out"

out=$(run config validate /configs/dev.yaml)
echo "ok: $out"

# Not root: creating a directory in / is refused. serve binds its listeners
# first (ports the kernel picks), then opens the state dir: as root it would
# go on to serve, and the timeout would end it without the expected error.
out=$(timeout 60 "${BUILDAH[@]}" run --isolation chroot "$ctr" -- /regiongate serve \
	--state-dir /probe --client-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 2>&1) && fail "serve started as root?"
[[ $out == *"mkdir /probe: permission denied"* ]] || fail "want 'permission denied' creating /probe, got: $out"
echo "ok: the image's user cannot write /"
