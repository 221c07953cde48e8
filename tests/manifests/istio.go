package manifests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// IstioAPIVersion is the istio.io/api module whose CRDs validate the overlay's Istio objects.
const IstioAPIVersion = "v1.32.0"

// istioCRDFile is where that module keeps every Istio CRD.
const istioCRDFile = "kubernetes/customresourcedefinitions.gen.yaml"

// IstioCRDs returns the path of the Istio CRD manifest inside the istio.io/api module, fetched
// into the Go module cache if it is not there yet. The module is not a dependency of any
// package (nothing imports its Go code), so it is located with `go mod download` rather than
// vendored or copied.
func IstioCRDs() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "istio.io/api@"+IstioAPIVersion)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download istio.io/api@%s: %w", IstioAPIVersion, err)
	}
	var mod struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download istio.io/api@%s: %w", IstioAPIVersion, err)
	}
	if mod.Error != "" {
		return "", fmt.Errorf("go mod download istio.io/api@%s: %s", IstioAPIVersion, mod.Error)
	}
	path := filepath.Join(mod.Dir, istioCRDFile)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("istio.io/api@%s has no %s: %w", IstioAPIVersion, istioCRDFile, err)
	}
	return path, nil
}
