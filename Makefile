# regiongate: `make dev` brings the stack up, `make test` runs what CI runs.
GO      ?= go
BIN     := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

# Pinned tools (see ../shared/TOOLCHAIN.md for why these versions).
TEMPORAL_CLI_VERSION := v1.5.1
CONSUL_VERSION       := v1.14.0
STATICCHECK_VERSION  := v0.8.2

TEMPORAL_STAMP    := $(BIN)/.temporal-$(TEMPORAL_CLI_VERSION)
REPLICA_STAMP     := $(BIN)/.temporal-replica-$(TEMPORAL_CLI_VERSION)
CONSUL_STAMP      := $(BIN)/.consul-$(CONSUL_VERSION)
STATICCHECK_STAMP := $(BIN)/.staticcheck-$(STATICCHECK_VERSION)

# What `regiongate --version` prints, set at link time (the Dockerfile does
# the same with --build-arg VERSION). One static build for make dev, make bench
# and the image: no cgo, no build paths in the binary.
VERSION  := $(shell git describe --tags --always --dirty --abbrev=12 2>/dev/null || echo unknown)
GO_BUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)"
IMAGE    ?= regiongate:dev

# The Kubernetes manifests' render test lives in its own module
# (deploy/kubernetes): kustomize and the Kubernetes API stay out of go.mod.
K8S_MOD := deploy/kubernetes

.PHONY: all tools chromium postgres build dev dev-restart test test-short lint fmt fuzz bench chaos clean record-histories image-tools image image-test

all: build

## tools: build the pinned Temporal CLI (dev server), the replicated dev server
## (temporal-replica) and Consul agent into bin/, and install Debian's Chromium
## (the console's browser tests) and PostgreSQL (the records store's tests), as root
tools: $(TEMPORAL_STAMP) $(REPLICA_STAMP) $(CONSUL_STAMP) chromium postgres

## chromium: Debian's chromium, installed with apt-get when missing (root only;
## otherwise a warning says how). The console's browser tests drive it (chromedp).
chromium:
	@bash tools/apt-install.sh chromium "the console's browser tests (go test -short skips them)" optional

# PostgreSQL's server programs, for the tests of the PostgreSQL records store:
# Debian's postgresql-15, installed with apt-get when missing (root only). The
# tests start a private server on a free port (internal/tool/devstack); the
# package's own service is never used.
POSTGRES_PACKAGE := postgresql-15
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || bash tools/apt-install.sh $(POSTGRES_PACKAGE) "the records store's tests (or set REGIONGATE_POSTGRES_BIN)"

$(TEMPORAL_STAMP):
	@mkdir -p $(BIN)
	@echo "building temporal CLI $(TEMPORAL_CLI_VERSION) (about 3 minutes the first time)"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)
	@touch $@

# Consul lives in its own module (tools/consul) so its old dependencies never
# mix with the product's go.mod.
$(CONSUL_STAMP): tools/consul/go.mod tools/consul/go.sum
	@mkdir -p $(BIN)
	@echo "building consul $(CONSUL_VERSION) (2 to 4 minutes the first time)"
	cd tools/consul && $(GO) build -o $(BIN)/consul github.com/hashicorp/consul
	@touch $@

# temporal-replica: the pinned CLI's own dev server with cluster metadata
# (a cluster name, a failover version, global namespaces), for replicated
# pairs. Its own module (tools/replication), like Consul's: the Temporal
# server's dependencies stay out of the product's go.mod. Seconds once the
# CLI is in the module cache, a few minutes cold.
$(REPLICA_STAMP): tools/replication/go.mod tools/replication/go.sum tools/replication/main.go
	@mkdir -p $(BIN)
	@echo "building temporal-replica (Temporal server of CLI $(TEMPORAL_CLI_VERSION))"
	cd tools/replication && $(GO) build -o $(BIN)/temporal-replica .
	@touch $@

$(STATICCHECK_STAMP):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@touch $@

## build: the regiongate binary (gateway, worker, CLI)
build:
	@mkdir -p $(BIN)
	$(GO_BUILD) -o $(BIN)/regiongate ./cmd/regiongate

## dev: the whole dev stack on loopback; Ctrl-C stops it. CONSUL=1: config,
## records and drains in a Consul server, two gateway replicas (8080/8081, 8090/8091).
## REPLICATION=1: the regions as two replicated pairs (eu-west <-> eu-central,
## us-east <-> us-west) with global namespaces, for namespace failover
dev: $(TEMPORAL_STAMP) $(CONSUL_STAMP) $(if $(REPLICATION),$(REPLICA_STAMP)) build
	@CONSUL=$(CONSUL) REPLICATION=$(REPLICATION) bash deploy/dev/up.sh

## dev-restart: bring back a process of the running dev stack that died, on
## its port with its state: NAME=us-east (a region), worker-us-east, consul, gateway-2
dev-restart:
	@bash deploy/dev/restart.sh "$(NAME)"

## test: what CI runs: lint, then every test against real servers (the dev
## stack's test runs bin/regiongate; the console's tests drive Chromium)
test: tools build lint
	REGIONGATE_TEMPORAL_BIN=$(BIN)/temporal REGIONGATE_CONSUL_BIN=$(BIN)/consul REGIONGATE_REPLICA_BIN=$(BIN)/temporal-replica \
		$(GO) test -count=1 -timeout 25m ./...
	cd $(K8S_MOD) && $(GO) test -count=1 ./...

## test-short: unit tests only, no servers
test-short:
	$(GO) test -short ./...
	cd $(K8S_MOD) && $(GO) test -short ./...

## lint: gofmt, go vet, staticcheck
lint: $(STATICCHECK_STAMP)
	@out=$$(gofmt -l .); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	cd $(K8S_MOD) && $(GO) vet ./... && $(BIN)/staticcheck ./...

fmt:
	gofmt -w .

## fuzz: every fuzz target for FUZZTIME each (default 30s; FUZZ=regexp picks
## targets), then a summary; fails if any target does. A failing input is
## written to its package's testdata/fuzz/<target>/: fix the bug, then commit
## the input as a regression seed (make test replays every committed seed, as
## any go test does). CI runs FUZZTIME=5s.
FUZZTIME ?= 30s
fuzz:
	@FUZZTIME=$(FUZZTIME) FUZZ='$(FUZZ)' GO=$(GO) bash .ci/fuzz

## bench: microbenchmarks, then starts direct / through the gateway / with a
## new connection each, failover under kill -9, Consul config propagation, on
## a stack of its own, then the gateway's own ceiling against stub frontends
## (about 3.5 of the minutes); writes docs/BENCHMARKS.md (about 11 minutes)
bench: $(TEMPORAL_STAMP) $(CONSUL_STAMP) build
	@bash deploy/bench/run.sh

## chaos: the dev stack in Consul mode (its own ports, state in .dev/chaos)
## under client load while its processes are killed and restarted, the
## network to the regions breaks, and regions are drained, drilled and
## reordered, on a schedule drawn from SEED; then the auditor. Fails unless
## no workflow is lost, duplicated, misplaced or unresolved (docs/RELIABILITY.md)
DURATION ?= 3m
SEED     ?=
chaos: tools build
	$(GO_BUILD) -o $(BIN)/regiongate-chaos ./cmd/regiongate-chaos
	$(BIN)/regiongate-chaos run --duration $(DURATION) $(if $(SEED),--seed $(SEED))

## record-histories: record the workflow histories of new scenarios (docs/workflows.md)
record-histories: $(TEMPORAL_STAMP)
	REGIONGATE_TEMPORAL_BIN=$(BIN)/temporal $(GO) test -count=1 -run TestHistoryScenariosRecorded ./workflows -record-histories

## image-tools: Debian's buildah, installed with apt-get when missing (root only)
image-tools:
	@bash tools/apt-install.sh buildah "make image"

## image: the regiongate:dev image FROM scratch around bin/regiongate, with
## buildah (no registry needed; the Dockerfile is the same image for Docker)
image: image-tools build
	IMAGE=$(IMAGE) VERSION=$(VERSION) bash deploy/image/build.sh

## image-test: run the binary in the image: --version, config validate of the
## dev config, as its non-root user
image-test: image
	IMAGE=$(IMAGE) VERSION=$(VERSION) bash deploy/image/test.sh

clean:
	rm -rf .dev .regiongate
