package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// This file holds the pieces the four backup kinds (Backup, Restore, BackupSchedule and
// CompactBackup) share: where backup data lives, how BR and Dumpling are tuned, and how the
// operator reaches a TiDB server.

// BackupStorageType names the kind of remote storage a StorageProvider points at. It is what
// StorageProvider.Type reports; it never appears in a manifest.
type BackupStorageType string

const (
	// BackupStorageTypeS3 is Amazon S3 or any S3-compatible object store.
	BackupStorageTypeS3 BackupStorageType = "s3"
	// BackupStorageTypeGcs is Google Cloud Storage.
	BackupStorageTypeGcs BackupStorageType = "gcs"
	// BackupStorageTypeAzblob is Azure Blob Storage.
	BackupStorageTypeAzblob BackupStorageType = "azblob"
	// BackupStorageTypeLocal is a volume mounted into the backup Pod.
	BackupStorageTypeLocal BackupStorageType = "local"
	// BackupStorageTypeUnknown means no storage provider is set.
	BackupStorageTypeUnknown BackupStorageType = "unknown"
)

// S3StorageProviderType names the S3-compatible service behind an S3StorageProvider. The value is
// handed to BR (--s3.provider) and rclone (S3_PROVIDER) as is, so any provider rclone knows works;
// the constants below are the ones the operator itself treats specially or documents.
type S3StorageProviderType string

const (
	// S3StorageProviderTypeAWS is Amazon S3. Without an explicit storageClass/acl the operator
	// asks for STANDARD_IA and private.
	S3StorageProviderTypeAWS S3StorageProviderType = "aws"
	// S3StorageProviderTypeCeph is Ceph's RADOS gateway; its endpoint must be plain http://.
	S3StorageProviderTypeCeph S3StorageProviderType = "ceph"
	// S3StorageProviderTypeAlibaba is Alibaba Cloud OSS, which wants virtual-hosted-style URLs.
	S3StorageProviderTypeAlibaba S3StorageProviderType = "alibaba"
	// S3StorageProviderTypeNetease is Netease Object Storage, which wants virtual-hosted-style URLs.
	S3StorageProviderTypeNetease S3StorageProviderType = "netease"
	// S3StorageProviderTypeDigitalOcean is DigitalOcean Spaces.
	S3StorageProviderTypeDigitalOcean S3StorageProviderType = "digitalocean"
	// S3StorageProviderTypeDreamhost is DreamHost DreamObjects.
	S3StorageProviderTypeDreamhost S3StorageProviderType = "dreamhost"
	// S3StorageProviderTypeIBMCOS is IBM Cloud Object Storage.
	S3StorageProviderTypeIBMCOS S3StorageProviderType = "ibmcos"
	// S3StorageProviderTypeMinio is MinIO.
	S3StorageProviderTypeMinio S3StorageProviderType = "minio"
	// S3StorageProviderTypeWasabi is Wasabi.
	S3StorageProviderTypeWasabi S3StorageProviderType = "wasabi"
)

// StorageProvider says where backup data is written to or read from. It is inlined into the
// specs, so a manifest sets spec.s3, spec.gcs, spec.azblob or spec.local directly; exactly one of
// them is meant to be set (the kinds that need storage enforce that with a validation rule).
type StorageProvider struct {
	// S3 stores the data in Amazon S3 or an S3-compatible object store.
	// +optional
	S3 *S3StorageProvider `json:"s3,omitempty"`

	// Gcs stores the data in Google Cloud Storage.
	// +optional
	Gcs *GcsStorageProvider `json:"gcs,omitempty"`

	// Azblob stores the data in Azure Blob Storage.
	// +optional
	Azblob *AzblobStorageProvider `json:"azblob,omitempty"`

	// Local stores the data on a volume mounted into the backup Pod, for example an NFS share.
	// +optional
	Local *LocalStorageProvider `json:"local,omitempty"`
}

// S3StorageProvider is a bucket in Amazon S3 or an S3-compatible object store.
type S3StorageProvider struct {
	// Provider is the S3-compatible service, for example aws, ceph, minio or alibaba. It is passed
	// to BR and rclone unchanged.
	Provider S3StorageProviderType `json:"provider"`

	// Region of the bucket.
	// +optional
	Region string `json:"region,omitempty"`

	// Path is a legacy field kept so that old manifests stay valid; the operator uses bucket and
	// prefix.
	// +optional
	Path string `json:"path,omitempty"`

	// Bucket holding the data. A value with a slash ("bucket/sub/dir") is split on the first slash
	// and the rest is put in front of prefix.
	// +optional
	Bucket string `json:"bucket,omitempty"`

	// Endpoint of the service, for S3-compatible stores other than AWS, for example
	// http://minio.minio:9000.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// StorageClass of the objects written, for example STANDARD_IA.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`

	// ACL is the canned ACL given to the objects written, for example private.
	// +optional
	ACL string `json:"acl,omitempty"`

	// SecretName is a Secret in the same namespace with the keys access_key and secret_key. Leave
	// it empty to use the Pod's cloud identity (IAM role for service accounts, instance profile).
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// Prefix is the key prefix (the "directory") inside the bucket.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// SSE turns on server-side encryption, for example AES256 or aws:kms.
	// +optional
	SSE string `json:"sse,omitempty"`

	// Options are extra rclone flags, used when Dumpling or Lightning move data.
	// +optional
	Options []string `json:"options,omitempty"`

	// ForcePathStyle chooses path-style URLs (endpoint/bucket/key) over virtual-hosted-style ones
	// (bucket.endpoint/key). Unset means path style, except for the alibaba and netease providers.
	// +optional
	ForcePathStyle *bool `json:"forcePathStyle,omitempty"`
}

// GcsStorageProvider is a bucket in Google Cloud Storage.
type GcsStorageProvider struct {
	// ProjectID is the Google Cloud project that owns the bucket.
	ProjectID string `json:"projectId"`

	// Location of the bucket, used when it has to be created.
	// +optional
	Location string `json:"location,omitempty"`

	// Path is a legacy field kept so that old manifests stay valid; the operator uses bucket and
	// prefix.
	// +optional
	Path string `json:"path,omitempty"`

	// Bucket holding the data.
	// +optional
	Bucket string `json:"bucket,omitempty"`

	// StorageClass of the objects written, for example STANDARD or NEARLINE.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`

	// ObjectACL is the predefined ACL of new objects, for example private.
	// +optional
	ObjectACL string `json:"objectAcl,omitempty"`

	// BucketACL is the predefined ACL of a bucket the tools create.
	// +optional
	BucketACL string `json:"bucketAcl,omitempty"`

	// SecretName is a Secret in the same namespace whose key "credentials" holds a service
	// account JSON key. Leave it empty to use the Pod's workload identity.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// Prefix is the object name prefix (the "directory") inside the bucket.
	// +optional
	Prefix string `json:"prefix,omitempty"`
}

// AzblobStorageProvider is a container in Azure Blob Storage.
type AzblobStorageProvider struct {
	// Path is a legacy field kept so that old manifests stay valid; the operator uses container
	// and prefix.
	// +optional
	Path string `json:"path,omitempty"`

	// Container holding the data.
	// +optional
	Container string `json:"container,omitempty"`

	// AccessTier of the blobs written: Hot, Cool or Archive. The backup-manager uses Cool when it
	// is empty.
	// +optional
	AccessTier string `json:"accessTier,omitempty"`

	// SecretName is a Secret in the same namespace with either AZURE_STORAGE_ACCOUNT and
	// AZURE_STORAGE_KEY, or AZURE_STORAGE_ACCOUNT, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and
	// AZURE_TENANT_ID.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// StorageAccount overrides the storage account found in the Secret.
	// +optional
	StorageAccount string `json:"storageAccount,omitempty"`

	// SasToken grants access to the container without a Secret.
	// +optional
	SasToken string `json:"sasToken,omitempty"`

	// Prefix is the blob name prefix (the "directory") inside the container.
	// +optional
	Prefix string `json:"prefix,omitempty"`
}

// LocalStorageProvider is a volume mounted into the backup Pod; the data is written below
// volumeMount.mountPath/prefix.
type LocalStorageProvider struct {
	// Volume to mount, for example an NFS share or a PersistentVolumeClaim that every TiKV node
	// can also reach.
	Volume corev1.Volume `json:"volume"`

	// VolumeMount mounts Volume into the backup container; its name must be the volume's name.
	VolumeMount corev1.VolumeMount `json:"volumeMount"`

	// Prefix is the directory below the mount path.
	// +optional
	Prefix string `json:"prefix,omitempty"`
}

// BRConfig tunes BR and names the cluster it works on. Setting it selects BR; leaving it out of a
// Backup selects Dumpling, and out of a Restore selects TiDB Lightning.
type BRConfig struct {
	// Cluster is the name of the TidbCluster to back up or restore into.
	Cluster string `json:"cluster"`

	// ClusterNamespace is the TidbCluster's namespace; it defaults to the namespace of this object.
	// +optional
	ClusterNamespace string `json:"clusterNamespace,omitempty"`

	// DB limits a "db" or "table" backup/restore to this database. Superseded by spec.tableFilter.
	// +optional
	DB string `json:"db,omitempty"`

	// Table limits a "table" backup/restore to this table of DB. Superseded by spec.tableFilter.
	// +optional
	Table string `json:"table,omitempty"`

	// LogLevel of BR, for example info or debug.
	// +optional
	LogLevel string `json:"logLevel,omitempty"`

	// StatusAddr is the address BR serves its status and metrics on; empty turns it off.
	// +optional
	StatusAddr string `json:"statusAddr,omitempty"`

	// Concurrency is the number of worker threads on each TiKV node.
	// +optional
	Concurrency *uint32 `json:"concurrency,omitempty"`

	// RateLimit caps the speed on each TiKV node, in MB/s.
	// +optional
	RateLimit *uint `json:"rateLimit,omitempty"`

	// TimeAgo backs up the data as it was this long ago, for example 1m or 1h.
	// +optional
	TimeAgo string `json:"timeAgo,omitempty"`

	// Checksum turns BR's checksum of the data after the backup or restore on or off.
	// +optional
	Checksum *bool `json:"checksum,omitempty"`

	// CheckRequirements turns BR's version and environment checks on or off.
	// +optional
	CheckRequirements *bool `json:"checkRequirements,omitempty"`

	// SendCredToTikv makes BR pass the storage credentials on to TiKV, which writes the data
	// itself. Turn it off when the TiKV nodes have their own cloud identity.
	// +optional
	SendCredToTikv *bool `json:"sendCredToTikv,omitempty"`

	// OnLine restores while the cluster keeps serving, at the cost of speed.
	// +optional
	OnLine *bool `json:"onLine,omitempty"`

	// Options are extra BR flags, appended last so that they override the operator's own.
	// +optional
	Options []string `json:"options,omitempty"`
}

// TiDBAccessConfig says how to log in to a TiDB server: used by Dumpling and Lightning, and by
// BR jobs that must raise tikv_gc_life_time on old clusters.
type TiDBAccessConfig struct {
	// Host of the TiDB server, usually its Service: <cluster>-tidb.<namespace>.
	Host string `json:"host"`

	// Port of the TiDB server; 4000 when unset.
	// +optional
	Port int32 `json:"port,omitempty"`

	// User to log in as; root when unset.
	// +optional
	User string `json:"user,omitempty"`

	// SecretName is a Secret in the same namespace whose key "password" holds the user's password.
	SecretName string `json:"secretName"`

	// TLSClientSecretName is a Secret with the client certificate (ca.crt, tls.crt, tls.key) to
	// use when the TiDB server requires TLS from clients.
	// +optional
	TLSClientSecretName *string `json:"tlsClientSecretName,omitempty"`
}

// DumplingConfig tunes Dumpling, which a Backup without spec.br uses to export SQL files.
type DumplingConfig struct {
	// Options are extra Dumpling flags.
	// +optional
	Options []string `json:"options,omitempty"`

	// TableFilter is the legacy place for table filter rules; use spec.tableFilter.
	// +optional
	TableFilter []string `json:"tableFilter,omitempty"`
}
