# TiDB Operator (a drop-in successor to PingCAP's v1.6). `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tidb-operator
# Dev tools are keyed by the hash of hack/tools/go.sum, so bumping a pin rebuilds them.
TOOLS_KEY := $(shell (cat hack/tools/go.mod hack/tools/go.sum 2>/dev/null) | sha256sum | cut -c1-12)
TOOLS_BIN := $(CACHE)/tools/$(TOOLS_KEY)
CONTROLLER_GEN := $(TOOLS_BIN)/controller-gen
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint

MODULES := pkg/apis . tests
BIN := $(ROOT)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
GIT_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/tidbops/tidb-operator/pkg/version
LDFLAGS := -s -w -X $(VERSION_PKG).gitVersion=$(VERSION) -X $(VERSION_PKG).gitCommit=$(GIT_COMMIT) -X $(VERSION_PKG).buildDate=$(BUILD_DATE)
GO_TEST_FLAGS ?=
TEST_TIMEOUT ?= 40m

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-10s %s\n", $$1, $$2}'

##@ Build

.PHONY: build
build: ## Build the three binaries into bin/ with version stamping.
	@mkdir -p $(BIN)
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/tidb-operator ./cmd/tidb-backup-manager ./cmd/tidb-scheduler

IMAGE_REGISTRY ?= ghcr.io/tidbops
IMAGE_TAG ?= $(VERSION)
IMAGES := tidb-operator tidb-backup-manager tidb-scheduler

.PHONY: images
images: build ## Build the three container images from bin/ with docker (needs a Docker engine).
	@if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then \
	  echo "images: no usable Docker engine on this machine ('docker info' fails), so no image was built." >&2; \
	  echo "images: the binaries are in $(BIN); run 'make images' where Docker runs." >&2; exit 1; fi
	for img in $(IMAGES); do docker build -f images/$$img/Dockerfile -t $(IMAGE_REGISTRY)/$$img:$(IMAGE_TAG) $(BIN); done

##@ Generation

$(CONTROLLER_GEN): hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	GOWORK=off go -C hack/tools build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(GOLANGCI_LINT): hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building golangci-lint (first time only, cached in $(TOOLS_BIN))"
	GOWORK=off go -C hack/tools build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy code, the CRDs and the operator's RBAC.
	cd pkg/apis && $(CONTROLLER_GEN) object:headerFile=$(ROOT)/hack/boilerplate.go.txt paths=./...
	rm -f manifests/crd/*.yaml
	cd pkg/apis && $(CONTROLLER_GEN) crd:crdVersions=v1,allowDangerousTypes=true,maxDescLen=0 paths=./pingcap/... output:crd:dir=$(ROOT)/manifests/crd
	hack/combine-crds.sh manifests/crd > manifests/base/custom_resource_definition.yaml
	tmp=$$(mktemp -d) && $(CONTROLLER_GEN) rbac:roleName=tidb-operator paths=./pkg/controllers output:rbac:dir=$$tmp \
	  && hack/split-rbac.sh $$tmp/role.yaml manifests/base && rm -rf $$tmp

.PHONY: verify
verify: $(CONTROLLER_GEN) ## Regenerate in a clean copy of the tree and fail on any difference.
	hack/verify-generated.sh

##@ Quality

.PHONY: fmt
fmt: ## gofmt every module.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint over every module.
	@for m in $(MODULES); do echo "lint $$m"; (cd $$m && $(GOLANGCI_LINT) run --config $(ROOT)/.golangci.yml ./...); done

.PHONY: unit
unit: ## Unit tests of every module (no API server).
	@for m in $(MODULES); do echo "unit $$m"; (cd $$m && go test $(GO_TEST_FLAGS) -short ./...); done

.PHONY: check
check: lint unit verify ## lint + unit + verify: run before every commit.

.PHONY: testbin
testbin: ## Build (once) and cache etcd, kube-apiserver, controller-manager, scheduler, kwok and the backup tests' servers.
	hack/testbin.sh all >/dev/null
	hack/testservers.sh all >/dev/null

.PHONY: test
test: testbin ## Every test of every module, including real API-server and simulated-cluster tests.
	@for m in $(MODULES); do echo "test $$m"; (cd $$m && go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...); done

# bench runs the cluster benchmarks once each (-benchtime=1x: one iteration is a whole scenario,
# minutes long) and the scheduler's request benchmarks SCHEDULER_BENCHTIME times (their
# percentiles need several requests), and prints the figures they report. BENCH narrows them by
# name.
BENCH ?= .
BENCH_TIMEOUT ?= 60m
SCHEDULER_BENCHTIME ?= 60x

.PHONY: bench
bench: testbin ## Benchmarks: tidb-scheduler, TidbCluster create-to-Ready, cache memory, backup clean (docs/benchmarks.md).
	@if [ -d pkg/scheduler ]; then echo "bench ./pkg/scheduler/..."; \
	  go test -run '^$$' -bench '$(BENCH)' -benchtime=$(SCHEDULER_BENCHTIME) -benchmem ./pkg/scheduler/... | { grep -v 'no test files' || true; }; fi
	@echo "bench ./tests/bench"
	cd tests && go test -v -run '^$$' -bench '$(BENCH)' -benchtime=1x -benchmem -timeout $(BENCH_TIMEOUT) ./bench/

# run writes the local cluster's kubeconfig, the binaries and all logs under .run/. devrun is
# built and exec'd rather than `go run`: go run exits 1 on Ctrl-C even after a clean shutdown.
.PHONY: run
run: ## Local simulated cluster with the operator managing examples/basic (or the cluster in KUBECONFIG)
	cd tests && go build -o $(ROOT)/.run/bin/devrun ./cmd/devrun && exec $(ROOT)/.run/bin/devrun -root $(ROOT)

.PHONY: clean
clean: ## Remove build output (the version-keyed caches outside the repo stay).
	rm -rf $(BIN) .run
