package job

import (
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestSecretRefsNameTheField(t *testing.T) {
	cases := map[string]struct {
		p      v1alpha1.StorageProvider
		prefix string
		want   SecretRef
		ok     bool
	}{
		"s3":           {v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{SecretName: "a"}}, "spec", SecretRef{"spec.s3.secretName", "a"}, true},
		"gcs":          {v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{SecretName: "b"}}, "spec", SecretRef{"spec.gcs.secretName", "b"}, true},
		"azblob, full": {v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{SecretName: "c"}}, "spec.pitrFullBackupStorageProvider", SecretRef{"spec.pitrFullBackupStorageProvider.azblob.secretName", "c"}, true},
		"no secret":    {v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{}}, "spec", SecretRef{}, false},
		"local":        {v1alpha1.StorageProvider{Local: &v1alpha1.LocalStorageProvider{}}, "spec", SecretRef{}, false},
		"none":         {v1alpha1.StorageProvider{}, "spec", SecretRef{}, false},
	}
	for name, tc := range cases {
		if got, ok := StorageSecret(tc.p, tc.prefix); got != tc.want || ok != tc.ok {
			t.Errorf("%s: StorageSecret = %+v %v, want %+v %v", name, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := AccessSecret(&v1alpha1.TiDBAccessConfig{SecretName: "pw"}, "spec.from"); !ok || got != (SecretRef{"spec.from.secretName", "pw"}) {
		t.Errorf("AccessSecret = %+v %v", got, ok)
	}
	if _, ok := AccessSecret(nil, "spec.to"); ok {
		t.Error("AccessSecret of no access")
	}
}
