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

// FromProvider reads a custom resource's storage provider. brOptions are spec.br.options, which
// come last on BR's command line, so that BR obeys them over the flags built from the spec (the
// last of a flag wins): where BR is told a different endpoint, region, provider or Azure account
// there, the Location says what BR was told, or the backup-manager would read and clean a
// different store than BR wrote. The options read are BR's flags --s3.endpoint, --s3.region,
// --s3.provider, --gcs.endpoint, --azblob.endpoint and --azblob.account-name, spelled as BR's
// flag parser accepts them (--name=value or --name value, before any "--"; BR knows no
// underscore spellings). BR has no flag for S3's path style: it is only the URL's
// force-path-style, which comes from spec.s3.forcePathStyle.
//
// A "." or ".." segment in a bucket, container, prefix or legacy path is refused (ErrUnsafePrefix,
// naming the field): URLs and path joining resolve them away, so that bucket "b" with prefix
// "../x/y" would mean bucket "x". A local prefix may hold "." segments, which cannot leave the
// volume; ".." is refused there too, and in the mount path.
func FromProvider(p v1alpha1.StorageProvider, brOptions []string) (Location, error) {
	if err := checkNoStorageOption(brOptions); err != nil {
		return Location{}, err
	}
	if p.Count() > 1 {
		return Location{}, errors.New("more than one of s3, gcs, azblob and local is set: choose one")
	}
	switch p.Type() {
	case v1alpha1.BackupStorageTypeS3:
		s := p.S3
		if err := checkSegments(dotSegments, field{"spec.s3.bucket", s.Bucket}, field{"spec.s3.prefix", s.Prefix}); err != nil {
			return Location{}, err
		}
		bucket, prefix := s.BucketAndPrefix()
		if bucket == "" && s.Path != "" {
			if err := checkSegments(dotSegments, field{"spec.s3.path", s.Path}); err != nil {
				return Location{}, err
			}
			bucket, prefix = splitPath(strings.TrimPrefix(s.Path, "s3://"))
		}
		if bucket == "" {
			return Location{}, errors.New("spec.s3.bucket is empty")
		}
		l := Location{
			Type: v1alpha1.BackupStorageTypeS3, Bucket: bucket, Prefix: prefix,
			Provider: string(s.Provider), Region: s.Region, Endpoint: s.Endpoint,
			ForcePathStyle: s.ForcePathStyle, SSE: s.SSE, ACL: s.ACL, StorageClass: s.StorageClass,
		}
		if v, ok := optionValue(brOptions, "s3.endpoint"); ok {
			l.Endpoint = v
		}
		if v, ok := optionValue(brOptions, "s3.region"); ok {
			l.Region = v
		}
		if v, ok := optionValue(brOptions, "s3.provider"); ok {
			l.Provider = v
		}
		return l, nil
	case v1alpha1.BackupStorageTypeGcs:
		g := p.Gcs
		if err := checkSegments(dotSegments, field{"spec.gcs.bucket", g.Bucket}, field{"spec.gcs.prefix", g.Prefix}); err != nil {
			return Location{}, err
		}
		bucket, prefix := splitPath(path.Join(strings.Trim(g.Bucket, "/"), strings.Trim(g.Prefix, "/")))
		if bucket == "" && g.Path != "" {
			if err := checkSegments(dotSegments, field{"spec.gcs.path", g.Path}); err != nil {
				return Location{}, err
			}
			bucket, prefix = splitPath(strings.TrimPrefix(g.Path, "gcs://"))
		}
		if bucket == "" {
			return Location{}, errors.New("spec.gcs.bucket is empty")
		}
		endpoint, _ := optionValue(brOptions, "gcs.endpoint")
		return Location{
			Type: v1alpha1.BackupStorageTypeGcs, Bucket: bucket, Prefix: prefix,
			Endpoint: endpoint, ProjectID: g.ProjectID,
			StorageClass: g.StorageClass, ObjectACL: g.ObjectACL,
		}, nil
	case v1alpha1.BackupStorageTypeAzblob:
		a := p.Azblob
		if err := checkSegments(dotSegments, field{"spec.azblob.container", a.Container}, field{"spec.azblob.prefix", a.Prefix}); err != nil {
			return Location{}, err
		}
		container, prefix := splitPath(path.Join(strings.Trim(a.Container, "/"), strings.Trim(a.Prefix, "/")))
		if container == "" && a.Path != "" {
			if err := checkSegments(dotSegments, field{"spec.azblob.path", a.Path}); err != nil {
				return Location{}, err
			}
			container, prefix = splitPath(strings.TrimPrefix(a.Path, "azure://"))
		}
		if container == "" {
			return Location{}, errors.New("spec.azblob.container is empty")
		}
		endpoint, _ := optionValue(brOptions, "azblob.endpoint")
		account := a.StorageAccount
		if account == "" {
			// The URL's account-name (spec.azblob.storageAccount) wins over BR's flag; without
			// it, BR takes --azblob.account-name before AZURE_STORAGE_ACCOUNT.
			account, _ = optionValue(brOptions, "azblob.account-name")
		}
		return Location{
			Type: v1alpha1.BackupStorageTypeAzblob, Bucket: container, Prefix: prefix,
			Endpoint: endpoint, Account: account,
			SASToken: a.SasToken, AccessTier: a.AccessTier,
		}, nil
	case v1alpha1.BackupStorageTypeLocal:
		l := p.Local
		if l.VolumeMount.MountPath == "" {
			return Location{}, errors.New("spec.local.volumeMount.mountPath is empty")
		}
		if err := checkSegments([]string{".."}, field{"spec.local.volumeMount.mountPath", l.VolumeMount.MountPath}, field{"spec.local.prefix", l.Prefix}); err != nil {
			return Location{}, err
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

// field is a spec field by its JSON path, for error messages.
type field struct{ name, value string }

// dotSegments are the path segments refused in an object store's bucket and prefix.
var dotSegments = []string{"..", "."}

// checkSegments refuses a field holding one of the segments, naming the first such field.
func checkSegments(segments []string, fields ...field) error {
	for _, f := range fields {
		for _, seg := range segments {
			if hasSegment(f.value, seg) {
				return fmt.Errorf("%w: %s %q contains %q: a path segment the storage URL resolves away, which would change the bucket or folder BR writes to: remove it",
					ErrUnsafePrefix, f.name, f.value, seg)
			}
		}
	}
	return nil
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

// optionValue returns the value of the flag name in BR options and whether it is there, read
// as BR's flag parser (pflag) reads them: --name=value, or --name followed by the value as the
// next option; the last one wins; an option "--" ends the flags. An option with spaces around it
// is not a flag to BR, and neither is a spelling with "_" for "-".
func optionValue(options []string, name string) (string, bool) {
	var (
		v     string
		found bool
	)
	flag := "--" + name
	for i := 0; i < len(options); i++ {
		o := options[i]
		switch {
		case o == "--":
			return v, found
		case strings.HasPrefix(o, flag+"="):
			v, found = strings.TrimPrefix(o, flag+"="), true
		case o == flag && i+1 < len(options):
			v, found = options[i+1], true
			i++
		}
	}
	return v, found
}

// checkNoStorageOption refuses a --storage (or -s) in spec.br.options: BR would write where
// it says, while status.backupPath, reads and clean follow the storage provider, so a clean
// could delete data that is not the backup's.
func checkNoStorageOption(options []string) error {
	for _, name := range []string{"storage", "full-backup-storage"} {
		if _, ok := optionValue(options, name); ok {
			return fmt.Errorf("spec.br.options sets --%s: BR would use another storage than the one the Backup records and cleans; describe the storage in the storage provider fields (s3, gcs, azblob, local) instead", name)
		}
	}
	for _, o := range options {
		if o == "--" {
			break
		}
		if o == "-s" || (strings.HasPrefix(o, "-s") && !strings.HasPrefix(o, "--")) {
			return fmt.Errorf("spec.br.options sets -s (--storage): BR would use another storage than the one the Backup records and cleans; describe the storage in the storage provider fields (s3, gcs, azblob, local) instead")
		}
	}
	return nil
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

// StatusPath is status.backupPath, spelled as v1.6's util.GetStoragePath spells it:
// s3://bucket/prefix, gcs://bucket/prefix/ and azure://container/prefix/ (with a trailing
// slash), local://<mount path>/prefix. It holds no query: no credential, no option. Compare two
// of them with SamePath.
func (l Location) StatusPath() string {
	switch l.Type {
	case v1alpha1.BackupStorageTypeS3:
		return "s3://" + path.Join(l.Bucket, l.Prefix)
	case v1alpha1.BackupStorageTypeGcs:
		return "gcs://" + path.Join(l.Bucket, l.Prefix) + "/"
	case v1alpha1.BackupStorageTypeAzblob:
		return "azure://" + path.Join(l.Bucket, l.Prefix) + "/"
	case v1alpha1.BackupStorageTypeLocal:
		return "local://" + path.Join(l.Bucket, l.Prefix)
	default:
		return ""
	}
}

// SamePath reports whether two status.backupPath values name the same place: they are equal
// once one trailing "/" is dropped from each, so that gcs://b/p/ (as v1.6 and StatusPath write
// it) and gcs://b/p (as earlier versions of this backup-manager wrote it) are the same. Nothing
// else is normalised, and an empty path is the same as no other path.
func SamePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
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
