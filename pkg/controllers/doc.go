// Package controllers is the parent of the operator's reconcilers (one sub-package per kind) and
// the single place that declares what the operator may do in the API.
//
// rbac.go holds every +kubebuilder:rbac marker of the operator. `make generate` turns them into
// manifests/base/cluster_role.yaml (cluster-wide rules) and manifests/base/role.yaml (rules
// limited to the operator's own namespace), so the deployed permissions are derived from the code
// and cannot drift from it. Keeping the markers in one file, each with the controller that needs
// the rule and why, makes a review of the operator's privileges a review of one page.
package controllers
