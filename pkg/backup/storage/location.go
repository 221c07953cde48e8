package storage

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Location is where a backup's objects are, however it was described: by a custom resource's
// storage provider (the backup-manager) or by BR's --storage URL and flags (the test doubles).
// It holds no credential but the SAS token a user may have written into spec.azblob.
type Location struct {
	Type v1alpha1.BackupStorageType
	// Bucket is the S3 or GCS bucket, the Azure container, or for local storage the volume's
	// mount path (absolute, cleaned).
	Bucket string
	// Prefix is the backup's folder inside Bucket, with no leading or trailing slash.
	Prefix string

	// Provider, Region, Endpoint, ForcePathStyle, SSE, ACL and StorageClass describe S3.
	// Endpoint is also GCS's and Azure's service endpoint when BR is given one
	// (--gcs.endpoint, --azblob.endpoint in spec.br.options); empty means the provider's default.
	Provider       string
	Region         string
	Endpoint       string
	ForcePathStyle *bool
	SSE            string
	ACL            string
	StorageClass   string

	// ProjectID, ObjectACL (and StorageClass) describe GCS.
	ProjectID string
	ObjectACL string

	// Account, SASToken and AccessTier describe Azure Blob storage. Account falls back to the
	// environment's AZURE_STORAGE_ACCOUNT when opened.
	Account    string
	SASToken   string
	AccessTier string
}

// ErrUnsafePrefix marks a location whose prefix could make a clean delete more than the backup.
var ErrUnsafePrefix = errors.New("unsafe backup prefix")

// FromProvider reads a custom resource's storage provider. brOptions are spec.br.options: the
// service endpoints BR is given there (--gcs.endpoint=, --azblob.endpoint=) are the ones the
// backup-manager must use too, or it would read and clean a different store than BR wrote.
func FromProvider(p v1alpha1.StorageProvider, brOptions []string) (Location, error) {
	if p.Count() > 1 {
		return Location{}, errors.New("more than one of s3, gcs, azblob and local is set: choose one")
	}
	switch p.Type() {
	case v1alpha1.BackupStorageTypeS3:
		s := p.S3
		bucket, prefix := s.BucketAndPrefix()
		if bucket == "" && s.Path != "" {
			bucket, prefix = splitPath(strings.TrimPrefix(s.Path, "s3://"))
		}
		if bucket == "" {
			return Location{}, errors.New("spec.s3.bucket is empty")
		}
		return Location{
			Type: v1alpha1.BackupStorageTypeS3, Bucket: bucket, Prefix: prefix,
			Provider: string(s.Provider), Region: s.Region, Endpoint: s.Endpoint,
			ForcePathStyle: s.ForcePathStyle, SSE: s.SSE, ACL: s.ACL, StorageClass: s.StorageClass,
		}, nil
	case v1alpha1.BackupStorageTypeGcs:
		g := p.Gcs
		bucket, prefix := splitPath(path.Join(strings.Trim(g.Bucket, "/"), strings.Trim(g.Prefix, "/")))
		if bucket == "" && g.Path != "" {
			bucket, prefix = splitPath(strings.TrimPrefix(g.Path, "gcs://"))
		}
		if bucket == "" {
			return Location{}, errors.New("spec.gcs.bucket is empty")
		}
		return Location{
			Type: v1alpha1.BackupStorageTypeGcs, Bucket: bucket, Prefix: prefix,
			Endpoint: optionValue(brOptions, "gcs.endpoint"), ProjectID: g.ProjectID,
			StorageClass: g.StorageClass, ObjectACL: g.ObjectACL,
		}, nil
	case v1alpha1.BackupStorageTypeAzblob:
		a := p.Azblob
		container, prefix := splitPath(path.Join(strings.Trim(a.Container, "/"), strings.Trim(a.Prefix, "/")))
		if container == "" && a.Path != "" {
			container, prefix = splitPath(strings.TrimPrefix(a.Path, "azure://"))
		}
		if container == "" {
			return Location{}, errors.New("spec.azblob.container is empty")
		}
		return Location{
			Type: v1alpha1.BackupStorageTypeAzblob, Bucket: container, Prefix: prefix,
			Endpoint: optionValue(brOptions, "azblob.endpoint"), Account: a.StorageAccount,
			SASToken: a.SasToken, AccessTier: a.AccessTier,
		}, nil
	case v1alpha1.BackupStorageTypeLocal:
		l := p.Local
		if l.VolumeMount.MountPath == "" {
			return Location{}, errors.New("spec.local.volumeMount.mountPath is empty")
		}
		if hasDotDot(l.Prefix) {
			return Location{}, fmt.Errorf("%w: spec.local.prefix %q contains \"..\"", ErrUnsafePrefix, l.Prefix)
		}
		return Location{
			Type:   v1alpha1.BackupStorageTypeLocal,
			Bucket: filepath.Clean(l.VolumeMount.MountPath),
			Prefix: strings.Trim(filepath.ToSlash(filepath.Clean("/"+l.Prefix)), "/"),
		}, nil
	default:
		return Location{}, v1alpha1.ErrNoStorageProvider
	}
}

// splitPath splits "bucket/some/prefix" on the first slash after trimming slashes.
func splitPath(p string) (bucket, prefix string) {
	p = strings.Trim(p, "/")
	if p == "." {
		return "", ""
	}
	bucket, prefix, _ = strings.Cut(p, "/")
	return bucket, strings.Trim(prefix, "/")
}

// optionValue returns the value of --name=value (or --name value) in BR options, the last one
// winning as it does for BR's own flag parser.
func optionValue(options []string, name string) string {
	var v string
	for i := 0; i < len(options); i++ {
		o := strings.TrimSpace(options[i])
		flag := "--" + name
		switch {
		case strings.HasPrefix(o, flag+"="):
			v = strings.TrimPrefix(o, flag+"=")
		case o == flag && i+1 < len(options):
			v = strings.TrimSpace(options[i+1])
			i++
		}
	}
	return v
}

func hasDotDot(p string) bool { return hasSegment(p, "..") }

func hasSegment(p, segment string) bool {
	for _, seg := range strings.Split(filepath.ToSlash(p), "/") {
		if seg == segment {
			return true
		}
	}
	return false
}

// UsesPathStyle reports whether S3 requests put the bucket in the path: forcePathStyle when
// written, otherwise true except for providers that only serve virtual-hosted style.
func (l Location) UsesPathStyle() bool {
	s := v1alpha1.S3StorageProvider{Provider: v1alpha1.S3StorageProviderType(l.Provider), ForcePathStyle: l.ForcePathStyle}
	return s.UsesPathStyle()
}

// URL is BR's --storage value, spelled as v1.6 spells it.
func (l Location) URL() string { return l.url(l.SASToken) }

// Redacted is URL with the SAS token hidden: the only form that is logged or written to a
// custom resource.
func (l Location) Redacted() string {
	if l.SASToken == "" {
		return l.URL()
	}
	return l.url("REDACTED")
}

func (l Location) url(sas string) string {
	switch l.Type {
	case v1alpha1.BackupStorageTypeS3:
		u := "s3://" + path.Join(l.Bucket, l.Prefix)
		if l.ForcePathStyle != nil {
			u += fmt.Sprintf("?force-path-style=%t", *l.ForcePathStyle)
		}
		return u
	case v1alpha1.BackupStorageTypeGcs:
		return "gcs://" + path.Join(l.Bucket, l.Prefix) + "/"
	case v1alpha1.BackupStorageTypeAzblob:
		u := "azure://" + path.Join(l.Bucket, l.Prefix) + "/"
		q := make([]string, 0, 2)
		if l.Account != "" {
			q = append(q, "account-name="+url.QueryEscape(l.Account))
		}
		if sas != "" {
			q = append(q, "sas-token="+url.QueryEscape(sas))
		}
		if len(q) > 0 {
			u += "?" + strings.Join(q, "&")
		}
		return u
	case v1alpha1.BackupStorageTypeLocal:
		return "local://" + path.Join(l.Bucket, l.Prefix)
	default:
		return ""
	}
}

// StatusPath is status.backupPath: the URL without any query (no credential, no options).
func (l Location) StatusPath() string {
	switch l.Type {
	case v1alpha1.BackupStorageTypeS3:
		return "s3://" + path.Join(l.Bucket, l.Prefix)
	case v1alpha1.BackupStorageTypeGcs:
		return "gcs://" + path.Join(l.Bucket, l.Prefix)
	case v1alpha1.BackupStorageTypeAzblob:
		return "azure://" + path.Join(l.Bucket, l.Prefix)
	case v1alpha1.BackupStorageTypeLocal:
		return "local://" + path.Join(l.Bucket, l.Prefix)
	default:
		return ""
	}
}

// CheckPrefix refuses a location whose clean could reach beyond one backup: an empty or root
// prefix (the whole bucket or volume), "." or ".." segments (a local prefix "." is the whole
// volume), or empty segments ("a//b"), which different stores resolve differently.
func CheckPrefix(l Location) error {
	p := l.Prefix
	switch {
	case l.Type == v1alpha1.BackupStorageTypeLocal && !filepath.IsAbs(l.Bucket):
		return fmt.Errorf("%w: local mount path %q is not absolute", ErrUnsafePrefix, l.Bucket)
	case l.Type == v1alpha1.BackupStorageTypeLocal && hasDotDot(l.Bucket):
		return fmt.Errorf("%w: local mount path %q contains \"..\"", ErrUnsafePrefix, l.Bucket)
	case l.Bucket == "":
		return fmt.Errorf("%w: no bucket or container", ErrUnsafePrefix)
	case strings.Trim(p, "/") == "":
		return fmt.Errorf("%w: the prefix is empty, so a clean would delete the whole bucket %q: set the storage provider's prefix", ErrUnsafePrefix, l.Bucket)
	case hasDotDot(p):
		return fmt.Errorf("%w: prefix %q contains \"..\"", ErrUnsafePrefix, p)
	case hasSegment(p, "."):
		return fmt.Errorf("%w: prefix %q contains \".\"", ErrUnsafePrefix, p)
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//"):
		return fmt.Errorf("%w: prefix %q has an empty path segment", ErrUnsafePrefix, p)
	}
	return nil
}
