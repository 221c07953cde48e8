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

##@ Generation

$(CONTROLLER_GEN): hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	GOWORK=off go -C hack/tools build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(GOLANGCI_LINT): hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building golangci-lint (first time only, cached in $(TOOLS_BIN))"
	GOWORK=off go -C hack/tools build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy code and the CRDs.
	cd pkg/apis && $(CONTROLLER_GEN) object:headerFile=$(ROOT)/hack/boilerplate.go.txt paths=./...
	rm -f manifests/crd/*.yaml
	cd pkg/apis && $(CONTROLLER_GEN) crd:crdVersions=v1,allowDangerousTypes=true,maxDescLen=0 paths=./pingcap/... output:crd:dir=$(ROOT)/manifests/crd
	hack/combine-crds.sh manifests/crd > manifests/base/custom_resource_definition.yaml

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
testbin: ## Build (once) and cache etcd, kube-apiserver, controller-manager, scheduler and kwok.
	hack/testbin.sh all >/dev/null

.PHONY: test
test: testbin ## Every test of every module, including real API-server and simulated-cluster tests.
	@for m in $(MODULES); do echo "test $$m"; (cd $$m && go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...); done

.PHONY: clean
clean: ## Remove build output (the version-keyed caches outside the repo stay).
	rm -rf $(BIN) .run
