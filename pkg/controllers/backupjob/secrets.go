package backupjob

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

// MissingSecret names the first of refs that does not exist in namespace, as a message that
// starts with the spec field naming it, or "" when all exist. A Job whose environment refers to
// a missing Secret would sit in CreateContainerConfigError, which no one reads on the custom
// resource. Only existence is checked, through r, which must read from the API server: the
// operator may get Secrets one by one but never caches them.
func MissingSecret(ctx context.Context, r client.Reader, namespace string, refs ...job.SecretRef) (string, error) {
	for _, ref := range refs {
		err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return fmt.Sprintf("%s: Secret %s not found in namespace %s", ref.Field, ref.Name, namespace), nil
		}
		if err != nil {
			return "", fmt.Errorf("check Secret %s/%s (%s): %w", namespace, ref.Name, ref.Field, err)
		}
	}
	return "", nil
}
