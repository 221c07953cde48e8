// Package tools pins the developer tools (controller-gen, golangci-lint) as Go tool dependencies
// of their own module, so their dependency graphs never leak into the product's modules. The
// Makefile builds them with `go -C hack/tools build` into bin/, keyed by this go.mod.
package tools
