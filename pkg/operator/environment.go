package operator

import (
	"errors"
	"fmt"
)

// Environment variables the operator Deployment sets.
const (
	// EnvNamespace is the namespace the operator runs in; it holds the leader-election lease and,
	// when not cluster scoped, the only clusters the operator manages. Required, as in v1.6.
	EnvNamespace = "NAMESPACE"
	// EnvHelmRelease is the Helm release name; it keeps the leases of two releases in one
	// namespace apart.
	EnvHelmRelease = "HELM_RELEASE"
)

// leaseBaseName is v1.6's leader-election lock name, kept so that an old and a new operator in
// the same namespace never lead at the same time during an upgrade.
const leaseBaseName = "tidb-controller-manager"

// ErrNamespaceUnset is returned when $NAMESPACE is missing.
var ErrNamespaceUnset = errors.New("environment variable " + EnvNamespace + " is not set; " +
	"set it to the operator's own namespace (the Deployment usually takes it from metadata.namespace through the downward API)")

// Environment is what the operator learns from its environment.
type Environment struct {
	Namespace   string
	HelmRelease string
}

// LoadEnvironment reads the environment through getenv (os.Getenv in production).
func LoadEnvironment(getenv func(string) string) (Environment, error) {
	env := Environment{Namespace: getenv(EnvNamespace), HelmRelease: getenv(EnvHelmRelease)}
	if env.Namespace == "" {
		return Environment{}, ErrNamespaceUnset
	}
	return env, nil
}

// LeaderElectionID is the name of the lease the operator replicas compete for:
// tidb-controller-manager, or tidb-controller-manager-<release> under Helm.
func (e Environment) LeaderElectionID() string {
	if e.HelmRelease == "" {
		return leaseBaseName
	}
	return fmt.Sprintf("%s-%s", leaseBaseName, e.HelmRelease)
}
