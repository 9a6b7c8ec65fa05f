# syntax=docker/dockerfile:1
# The regiongate image for users with Docker (or any builder that can pull
# golang and distroless images from a registry):
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty --abbrev=12)" -t regiongate .
#   docker run --read-only --tmpfs /tmp --tmpfs /var/lib/regiongate -p 8080:8080 -p 8081:8081 regiongate
#
# It cannot be built on this project's build machines: they reach no container
# registry. There `make image` builds the same image FROM scratch around the
# binary built on the machine, with buildah (deploy/image/Containerfile), and
# `make image-test` runs it; keep the two in step.
#
# The image expects a read-only root filesystem: mount something writable at
# /var/lib/regiongate (the state dir: config copy, routing records, drains,
# audit log when Consul is off) and at /tmp. It runs as user 65532 and needs
# no shell.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# What `regiongate --version` prints, as `make build` sets it.
ARG VERSION=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=${VERSION}" \
      -o /out/regiongate ./cmd/regiongate \
 && mkdir -p /out/state && chmod 0700 /out/state \
 && /out/regiongate config validate configs/dev.yaml

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), /tmp.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=unknown
COPY --from=build /out/regiongate /regiongate
COPY --from=build /src/configs/dev.yaml /configs/dev.yaml
COPY --from=build --chown=65532:65532 /out/state/ /var/lib/regiongate/
USER 65532:65532
WORKDIR /var/lib/regiongate
EXPOSE 8080 8081
LABEL org.opencontainers.image.title="regiongate" \
      org.opencontainers.image.description="Multi-region routing gateway for Temporal" \
      org.opencontainers.image.version="${VERSION}"
ENTRYPOINT ["/regiongate"]
# The gateway on every interface, local state in the state dir; pass
# another command (worker --region R, config validate F, ...) to replace it.
# Plain text beyond loopback needs --insecure-listen: this default expects
# TLS to end in front of the container; give --tls-cert-file and
# --tls-key-file (or their variables) instead to serve TLS in it.
CMD ["serve", "--client-addr", "0.0.0.0:8080", "--admin-addr", "0.0.0.0:8081", "--state-dir", "/var/lib/regiongate", "--insecure-listen"]
