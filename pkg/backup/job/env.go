package job

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// This file builds the Job's environment. Credentials never pass through the operator: every
// secret reaches the Pod as a secretKeyRef, resolved by the kubelet, so no Job, event or log
// holds a value. The builders do not read Secrets at all, which is also why they cannot check
// that a key exists (v1.6 did): a missing required key leaves the Pod in
// CreateContainerConfigError, which the controller has to notice and report.

// Environment variables of v1.6's Jobs (pkg/backup/util GenerateStorageCertEnv and friends).
// The credentials are read by the backup-manager's storage backends and by the cloud SDKs inside
// BR and tikv-ctl; the descriptive S3_*, AWS_ACL, AWS_STORAGE_CLASS, GCS_* and
// AZURE_ACCESS_TIER variables fed rclone in v1.6's image (Dumpling exports) and are kept so that a
// Job looks as it did; AWS_DEFAULT_REGION fed KMS decryption.
const (
	envS3Provider       = "S3_PROVIDER"
	envS3Endpoint       = "S3_ENDPOINT"
	envAWSRegion        = "AWS_REGION"
	envAWSACL           = "AWS_ACL"
	envAWSStorageClass  = "AWS_STORAGE_CLASS"
	envAWSDefaultRegion = "AWS_DEFAULT_REGION"
	envAWSAccessKeyID   = "AWS_ACCESS_KEY_ID"
	envAWSSecretKey     = "AWS_SECRET_ACCESS_KEY"

	envGCSProjectID    = "GCS_PROJECT_ID"
	envGCSObjectACL    = "GCS_OBJECT_ACL"
	envGCSBucketACL    = "GCS_BUCKET_ACL"
	envGCSLocation     = "GCS_LOCATION"
	envGCSStorageClass = "GCS_STORAGE_CLASS"
	envGCSKey          = "GCS_SERVICE_ACCOUNT_JSON_KEY"

	envAzureAccessTier   = "AZURE_ACCESS_TIER"
	envAzureAccount      = "AZURE_STORAGE_ACCOUNT"
	envAzureKey          = "AZURE_STORAGE_KEY"
	envAzureClientID     = "AZURE_CLIENT_ID"
	envAzureClientSecret = "AZURE_CLIENT_SECRET"
	envAzureTenantID     = "AZURE_TENANT_ID"

	// envBRLogToTerm makes BR log to its output instead of a file, so the backup-manager
	// reads BR's errors and the pod log has them.
	envBRLogToTerm = "BR_LOG_TO_TERM"
	// envTiDBPassword is the password of spec.from / spec.to (manager.EnvTiDBPassword).
	envTiDBPassword = "BACKUP_MANAGER_PASSWORD"
)

// Keys of the Secrets the specs name (v1.6's pkg/backup/constants). An Azure Secret holds the
// variables under their own names.
const (
	keyS3AccessKey    = "access_key"
	keyS3SecretKey    = "secret_key"
	keyGCSCredentials = "credentials"
	keyTiDBPassword   = "password"
)

// v1.6's defaults for what the spec leaves empty.
const (
	defaultAWSStorageClass = "STANDARD_IA"
	defaultAWSACL          = "private"
	defaultAzureAccessTier = "Cool"
)

func literal(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

// fromSecret is a variable the kubelet fills from key of secret. optional lets the Pod start
// when the key (or the Secret) is missing, for credentials that come as one of several sets.
func fromSecret(name, secret, key string, optional bool) corev1.EnvVar {
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}
	if optional {
		ref.Optional = ptr.To(true)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}
}

// envList collects variables, leaving out empty literals: v1.6 also wrote S3_ENDPOINT="" and
// the like, but to every reader (the SDKs, rclone, the backup-manager) an empty variable means
// the same as none, and leaving them out keeps the Job readable.
type envList []corev1.EnvVar

func (l *envList) literal(name, value string) {
	if value != "" {
		*l = append(*l, literal(name, value))
	}
}

func (l *envList) secret(name, secret, key string, optional bool) {
	*l = append(*l, fromSecret(name, secret, key, optional))
}

// storageEnv is the environment that describes the storage p and brings its credentials.
// field is where p sits in the spec ("spec" or "spec.pitrFullBackupStorageProvider"), for the
// error messages. No storage (a log backup being stopped, a volume-snapshot) needs none.
func storageEnv(p v1alpha1.StorageProvider, useKMS bool, field string) ([]corev1.EnvVar, error) {
	var env envList
	switch p.Type() {
	case v1alpha1.BackupStorageTypeS3:
		s3 := p.S3
		storageClass, acl := s3.StorageClass, s3.ACL
		if s3.Provider == v1alpha1.S3StorageProviderTypeAWS {
			if storageClass == "" {
				storageClass = defaultAWSStorageClass
			}
			if acl == "" {
				acl = defaultAWSACL
			}
		}
		env.literal(envS3Provider, string(s3.Provider))
		env.literal(envS3Endpoint, s3.Endpoint)
		env.literal(envAWSRegion, s3.Region)
		env.literal(envAWSACL, acl)
		env.literal(envAWSStorageClass, storageClass)
		if useKMS {
			env.literal(envAWSDefaultRegion, s3.Region)
		}
		// Without a Secret the SDKs use the Pod's identity (IRSA, instance profile).
		if s3.SecretName != "" {
			env.secret(envAWSAccessKeyID, s3.SecretName, keyS3AccessKey, false)
			env.secret(envAWSSecretKey, s3.SecretName, keyS3SecretKey, false)
		}
	case v1alpha1.BackupStorageTypeGcs:
		gcs := p.Gcs
		if gcs.ProjectID == "" {
			return nil, fmt.Errorf("%s.gcs.projectId is empty: name the Google Cloud project that owns the bucket", field)
		}
		env.literal(envGCSProjectID, gcs.ProjectID)
		env.literal(envGCSObjectACL, gcs.ObjectACL)
		env.literal(envGCSBucketACL, gcs.BucketACL)
		env.literal(envGCSLocation, gcs.Location)
		env.literal(envGCSStorageClass, gcs.StorageClass)
		// Without a Secret the SDKs use the Pod's workload identity.
		if gcs.SecretName != "" {
			env.secret(envGCSKey, gcs.SecretName, keyGCSCredentials, false)
		}
	case v1alpha1.BackupStorageTypeAzblob:
		az := p.Azblob
		tier := az.AccessTier
		if tier == "" {
			tier = defaultAzureAccessTier
		}
		env.literal(envAzureAccessTier, tier)
		// The account is in the spec, else in the Secret. All of the Secret's keys are optional:
		// it holds either an account key or an AAD application (v1.6 looked inside to choose,
		// which a pure builder cannot), and the account may also come from spec.br.options'
		// --azblob.account-name. The backup-manager names what is missing when it opens the
		// container, which tells the user more than a Pod stuck on a missing key.
		if az.StorageAccount != "" {
			env.literal(envAzureAccount, az.StorageAccount)
		} else if az.SecretName != "" {
			env.secret(envAzureAccount, az.SecretName, envAzureAccount, true)
		}
		// A SAS token in the spec is the credential; v1.6 then read nothing else.
		if az.SasToken == "" && az.SecretName != "" {
			env.secret(envAzureKey, az.SecretName, envAzureKey, true)
			env.secret(envAzureClientID, az.SecretName, envAzureClientID, true)
			env.secret(envAzureClientSecret, az.SecretName, envAzureClientSecret, true)
			env.secret(envAzureTenantID, az.SecretName, envAzureTenantID, true)
		}
	}
	// Local storage is a mounted volume and needs no environment.
	return env, nil
}

// pitrEnv adds the environment of a PiTR restore's full-backup storage to the log storage's.
// The backup-manager opens both locations with one environment (and BR reads one set of
// credentials from it), so the variables cannot differ per storage: a variable the log storage
// already sets is kept, and two storages of one kind with different Secrets are refused, since
// one of them would be read with the other's credentials.
func pitrEnv(env []corev1.EnvVar, log, full v1alpha1.StorageProvider, useKMS bool) ([]corev1.EnvVar, error) {
	const field = "spec.pitrFullBackupStorageProvider"
	if full.Count() == 0 {
		return env, nil
	}
	if log.Type() == full.Type() {
		a, b := secretName(log), secretName(full)
		if a != "" && b != "" && a != b {
			kind := jsonKind(full.Type())
			return nil, fmt.Errorf("spec.%s.secretName %q and %s.%s.secretName %q differ, but BR and the backup-manager read one set of %s credentials from the Job's environment for both storages: use one Secret for both",
				kind, a, field, kind, b, kind)
		}
	}
	fullEnv, err := storageEnv(full, useKMS, field)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(env))
	for _, e := range env {
		have[e.Name] = true
	}
	for _, e := range fullEnv {
		if !have[e.Name] {
			env = append(env, e)
			have[e.Name] = true
		}
	}
	return env, nil
}

func secretName(p v1alpha1.StorageProvider) string {
	switch p.Type() {
	case v1alpha1.BackupStorageTypeS3:
		return p.S3.SecretName
	case v1alpha1.BackupStorageTypeGcs:
		return p.Gcs.SecretName
	case v1alpha1.BackupStorageTypeAzblob:
		return p.Azblob.SecretName
	default:
		return ""
	}
}

// jsonKind is the storage's field name in the spec.
func jsonKind(t v1alpha1.BackupStorageType) string {
	switch t {
	case v1alpha1.BackupStorageTypeGcs:
		return "gcs"
	case v1alpha1.BackupStorageTypeAzblob:
		return "azblob"
	default:
		return string(t)
	}
}

// passwordEnv brings the TiDB password of spec.from / spec.to (field) from its Secret's
// "password" key. v1.6 with useKMS named it KMS_ENCRYPTED_BACKUP_MANAGER_PASSWORD for its KMS
// wrapper; this backup-manager has no such wrapper and reads the plain name only.
func passwordEnv(access *v1alpha1.TiDBAccessConfig, field string) ([]corev1.EnvVar, error) {
	if access == nil {
		return nil, nil
	}
	if access.SecretName == "" {
		return nil, fmt.Errorf("%s.secretName is empty: name the Secret whose key %q holds the password of %s", field, keyTiDBPassword, access.GetTidbUser())
	}
	return []corev1.EnvVar{fromSecret(envTiDBPassword, access.SecretName, keyTiDBPassword, false)}, nil
}

// overrideEnv lays the spec's variables over the generated ones, as v1.6 did: one of the same
// name replaces the generated one where it stands, the others follow in the spec's order (a
// name the spec repeats keeps its last value at its first place). The result never aliases
// either input.
func overrideEnv(generated, spec []corev1.EnvVar) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(generated)+len(spec))
	at := make(map[string]int, len(generated)+len(spec))
	for _, e := range generated {
		at[e.Name] = len(out)
		out = append(out, *e.DeepCopy())
	}
	for _, e := range spec {
		if i, ok := at[e.Name]; ok {
			out[i] = *e.DeepCopy()
			continue
		}
		at[e.Name] = len(out)
		out = append(out, *e.DeepCopy())
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// baseEnv is what every Job's environment ends with.
func baseEnv() []corev1.EnvVar { return []corev1.EnvVar{literal(envBRLogToTerm, "1")} }
