package job

import "github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"

// SecretRef is a Secret a Job takes environment values from, and the spec field that names it,
// so that a missing one can be reported on the field the user fixes.
type SecretRef struct {
	Field, Name string
}

// StorageSecret is the Secret a storage provider names, if any; prefix is where the provider
// sits in the spec ("spec", or "spec.pitrFullBackupStorageProvider").
func StorageSecret(p v1alpha1.StorageProvider, prefix string) (SecretRef, bool) {
	name := secretName(p)
	if name == "" {
		return SecretRef{}, false
	}
	return SecretRef{Field: prefix + "." + jsonKind(p.Type()) + ".secretName", Name: name}, true
}

// AccessSecret is the Secret of a TiDB login (spec.from of a Backup, spec.to of a Restore).
func AccessSecret(access *v1alpha1.TiDBAccessConfig, field string) (SecretRef, bool) {
	if access == nil || access.SecretName == "" {
		return SecretRef{}, false
	}
	return SecretRef{Field: field + ".secretName", Name: access.SecretName}, true
}
