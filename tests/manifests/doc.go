// Package manifests tests the deployable manifests under manifests/ (the kustomize base, the
// dev overlay) the way a user consumes them, without kubectl: it builds them with the kustomize
// Go API, checks the objects a v1.6 user relies on, has a real API server validate every object
// (with the Istio CRDs installed), deploys the dev overlay on the simulated cluster, and runs the
// operator under the generated ServiceAccount's permissions.
//
// The helpers outside _test files (Build, IstioCRDs, ServiceAccountConfig, the request recorder)
// are usable by other test packages, e.g. an e2e suite that runs the operator with the generated
// RBAC instead of an admin identity.
package manifests
