package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// This file turns BR's description of a storage (the --storage URL and the --s3.*, --gcs.*,
// --azblob.* flags) into a storage.Location. It is written from BR's rules
// (br/pkg/storage ParseBackend and the backend options), deliberately not from the
// backup-manager's storage.Location.URL, so that a URL the manager spells wrongly is read the
// way BR would read it and the test sees the difference.

// BR's error kinds, spelled as pingcap/errors prints them (Annotate puts the message first).
const (
	errStorageInvalidConfig = "[BR:ExternalStorage:ErrStorageInvalidConfig]invalid external storage config"
	errInvalidArgument      = "[BR:Common:ErrInvalidArgument]invalid argument"
)

// brError is a BR error: a message annotating one of BR's error kinds.
func brError(kind, format string, args ...any) error {
	return fmt.Errorf("%s: %s", fmt.Sprintf(format, args...), kind)
}

// storageOptions are the provider flags. URL query parameters of the same names (without
// the provider prefix) override them, as in BR.
type storageOptions struct {
	s3Endpoint, s3Region, s3StorageClass, s3SSE, s3SSEKMSKeyID, s3ACL, s3Provider string
	s3RoleARN, s3ExternalID                                                       string

	gcsEndpoint, gcsStorageClass, gcsPredefinedACL, gcsCredentialsFile string

	azEndpoint, azAccountName, azAccountKey, azAccessTier, azSASToken, azEncryptionScope, azEncryptionKey string
}

// brStorage is a storage as BR resolved it.
type brStorage struct {
	loc storage.Location
	// backend is the StorageBackend BR builds from the same description: what
	// `br operator base64ify` prints (credentials only if given in the URL or flags).
	backend backend
	// env overlays the process environment for storage.Open: credentials BR took from the
	// URL or the flags instead of the environment. hide masks variables a given credential
	// supersedes.
	env  map[string]string
	hide map[string]bool
}

// lookup is the environment storage.Open sees.
func (s brStorage) lookup(base func(string) (string, bool)) storage.Env {
	return func(key string) (string, bool) {
		if v, ok := s.env[key]; ok {
			return v, true
		}
		if s.hide[key] {
			return "", false
		}
		return base(key)
	}
}

// normalizeKey spells a query parameter as BR matches it: case-insensitive, "_" as "-".
func normalizeKey(k string) string { return strings.ReplaceAll(strings.ToLower(k), "_", "-") }

// parseStorage reads a --storage (or --full-backup-storage) URL with the provider flags.
func parseStorage(rawURL string, o storageOptions) (brStorage, error) {
	if rawURL == "" {
		return brStorage{}, brError(errStorageInvalidConfig, "empty store is not allowed")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return brStorage{}, brError(errStorageInvalidConfig, "parse raw url %s failed: %v", redactURL(rawURL), err)
	}
	query := map[string]string{}
	for k, vs := range u.Query() {
		if len(vs) > 0 {
			query[normalizeKey(k)] = vs[len(vs)-1]
		}
	}
	set := func(dst *string, key string) {
		if v, ok := query[key]; ok {
			*dst = v
		}
	}
	prefix := strings.Trim(u.Path, "/")
	st := brStorage{env: map[string]string{}, hide: map[string]bool{}}

	switch u.Scheme {
	case "", "local", "file":
		p := u.Path
		if u.Scheme == "" {
			p = rawURL
		}
		if u.Host != "" || !filepath.IsAbs(p) {
			return brStorage{}, brError(errStorageInvalidConfig, "local storage path must be absolute, as local:///abs/path, got %s", rawURL)
		}
		p = filepath.Clean(p)
		if p == "/" {
			return brStorage{}, brError(errStorageInvalidConfig, "local storage path must not be the root directory")
		}
		st.loc = storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: filepath.Dir(p), Prefix: filepath.Base(p)}
		st.backend = backend{local: &localBackend{path: p}}

	case "s3":
		if u.Host == "" {
			return brStorage{}, brError(errStorageInvalidConfig, "please specify the bucket for s3 in %s", redactURL(rawURL))
		}
		set(&o.s3Endpoint, "endpoint")
		set(&o.s3Region, "region")
		set(&o.s3StorageClass, "storage-class")
		set(&o.s3SSE, "sse")
		set(&o.s3SSEKMSKeyID, "sse-kms-key-id")
		set(&o.s3ACL, "acl")
		set(&o.s3Provider, "provider")
		set(&o.s3RoleARN, "role-arn")
		set(&o.s3ExternalID, "external-id")
		loc := storage.Location{
			Type: v1alpha1.BackupStorageTypeS3, Bucket: u.Host, Prefix: prefix,
			Provider: o.s3Provider, Region: o.s3Region, Endpoint: strings.TrimSuffix(o.s3Endpoint, "/"),
			SSE: o.s3SSE, ACL: o.s3ACL, StorageClass: o.s3StorageClass,
		}
		if v, ok := query["force-path-style"]; ok {
			if b, err := strconv.ParseBool(v); err == nil {
				loc.ForcePathStyle = &b
			}
		}
		s3 := &s3Backend{
			endpoint: loc.Endpoint, region: loc.Region, bucket: loc.Bucket, prefix: loc.Prefix,
			storageClass: loc.StorageClass, sse: loc.SSE, acl: loc.ACL, forcePathStyle: loc.UsesPathStyle(),
			sseKMSKeyID: o.s3SSEKMSKeyID, roleARN: o.s3RoleARN, externalID: o.s3ExternalID, provider: loc.Provider,
		}
		ak, sk := query["access-key"], query["secret-access-key"]
		if (ak == "") != (sk == "") {
			return brStorage{}, brError(errStorageInvalidConfig, "access_key and secret_access_key should be both set or both unset in %s", redactURL(rawURL))
		}
		if ak != "" {
			s3.accessKey, s3.secretAccessKey, s3.sessionToken = ak, sk, query["session-token"]
			st.env["AWS_ACCESS_KEY_ID"], st.env["AWS_SECRET_ACCESS_KEY"] = ak, sk
			if t := query["session-token"]; t != "" {
				st.env["AWS_SESSION_TOKEN"] = t
			} else {
				st.hide["AWS_SESSION_TOKEN"] = true
			}
		}
		st.loc, st.backend = loc, backend{s3: s3}

	case "gs", "gcs":
		if u.Host == "" {
			return brStorage{}, brError(errStorageInvalidConfig, "please specify the bucket for gcs in %s", redactURL(rawURL))
		}
		set(&o.gcsEndpoint, "endpoint")
		set(&o.gcsStorageClass, "storage-class")
		set(&o.gcsPredefinedACL, "predefined-acl")
		set(&o.gcsCredentialsFile, "credentials-file")
		st.loc = storage.Location{
			Type: v1alpha1.BackupStorageTypeGcs, Bucket: u.Host, Prefix: prefix,
			Endpoint: o.gcsEndpoint, StorageClass: o.gcsStorageClass, ObjectACL: o.gcsPredefinedACL,
		}
		g := &gcsBackend{
			endpoint: o.gcsEndpoint, bucket: u.Host, prefix: prefix,
			storageClass: o.gcsStorageClass, predefinedACL: o.gcsPredefinedACL,
		}
		if f := o.gcsCredentialsFile; f != "" {
			// BR reads the file and sends its content as the credentials blob.
			data, err := os.ReadFile(f)
			if err != nil {
				return brStorage{}, brError(errStorageInvalidConfig, "read gcs credentials file: %v", err)
			}
			g.credentialsBlob = string(data)
			st.env["GOOGLE_APPLICATION_CREDENTIALS"] = f
			st.hide["GCS_SERVICE_ACCOUNT_JSON_KEY"] = true
		}
		st.backend = backend{gcs: g}

	case "azure", "azblob":
		if u.Host == "" {
			return brStorage{}, brError(errStorageInvalidConfig, "please specify the bucket for azblob in %s", redactURL(rawURL))
		}
		set(&o.azEndpoint, "endpoint")
		set(&o.azAccountName, "account-name")
		set(&o.azAccountKey, "account-key")
		set(&o.azAccessTier, "access-tier")
		set(&o.azSASToken, "sas-token")
		set(&o.azEncryptionScope, "encryption-scope")
		set(&o.azEncryptionKey, "encryption-key")
		st.loc = storage.Location{
			Type: v1alpha1.BackupStorageTypeAzblob, Bucket: u.Host, Prefix: prefix,
			Endpoint: o.azEndpoint, Account: o.azAccountName, SASToken: o.azSASToken, AccessTier: o.azAccessTier,
		}
		st.backend = backend{azure: &azureBackend{
			endpoint: o.azEndpoint, bucket: u.Host, prefix: prefix, storageClass: o.azAccessTier,
			accountName: o.azAccountName, sharedKey: o.azAccountKey, accessSig: o.azSASToken,
			encryptionScope: o.azEncryptionScope,
		}}
		if o.azAccountKey != "" {
			st.env["AZURE_STORAGE_KEY"] = o.azAccountKey
		}

	default:
		return brStorage{}, brError(errStorageInvalidConfig, "storage %s not support yet", u.Scheme)
	}
	return st, nil
}

// storageFromBackend is tikv-ctl's side: a decoded StorageBackend as a Location, with the
// credentials it carries offered as environment.
func storageFromBackend(be backend) (brStorage, error) {
	st := brStorage{backend: be, env: map[string]string{}, hide: map[string]bool{}}
	switch {
	case be.local != nil:
		p := filepath.Clean(be.local.path)
		if !filepath.IsAbs(p) || p == "/" {
			return brStorage{}, fmt.Errorf("local storage path %q must be an absolute directory below /", be.local.path)
		}
		st.loc = storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: filepath.Dir(p), Prefix: filepath.Base(p)}
	case be.s3 != nil:
		s := be.s3
		fps := s.forcePathStyle
		st.loc = storage.Location{
			Type: v1alpha1.BackupStorageTypeS3, Bucket: s.bucket, Prefix: strings.Trim(s.prefix, "/"),
			Provider: s.provider, Region: s.region, Endpoint: s.endpoint, ForcePathStyle: &fps,
			SSE: s.sse, ACL: s.acl, StorageClass: s.storageClass,
		}
		if s.accessKey != "" {
			st.env["AWS_ACCESS_KEY_ID"], st.env["AWS_SECRET_ACCESS_KEY"] = s.accessKey, s.secretAccessKey
			if s.sessionToken != "" {
				st.env["AWS_SESSION_TOKEN"] = s.sessionToken
			} else {
				st.hide["AWS_SESSION_TOKEN"] = true
			}
		}
	case be.gcs != nil:
		g := be.gcs
		st.loc = storage.Location{
			Type: v1alpha1.BackupStorageTypeGcs, Bucket: g.bucket, Prefix: strings.Trim(g.prefix, "/"),
			Endpoint: g.endpoint, StorageClass: g.storageClass, ObjectACL: g.predefinedACL,
		}
		if g.credentialsBlob != "" {
			st.env["GCS_SERVICE_ACCOUNT_JSON_KEY"] = g.credentialsBlob
			st.hide["GOOGLE_APPLICATION_CREDENTIALS"] = true
		}
	case be.azure != nil:
		a := be.azure
		st.loc = storage.Location{
			Type: v1alpha1.BackupStorageTypeAzblob, Bucket: a.bucket, Prefix: strings.Trim(a.prefix, "/"),
			Endpoint: a.endpoint, Account: a.accountName, SASToken: a.accessSig, AccessTier: a.storageClass,
		}
		if a.sharedKey != "" {
			st.env["AZURE_STORAGE_KEY"] = a.sharedKey
		}
	default:
		return brStorage{}, errors.New("the storage backend names no storage")
	}
	if st.loc.Bucket == "" {
		return brStorage{}, errors.New("the storage backend names no bucket")
	}
	return st, nil
}

// withEnvCredentials is `base64ify --load-creds`: the backend with the credentials BR finds
// in the environment added (BR otherwise leaves them for TiKV to find in its own).
func withEnvCredentials(be backend, lookup func(string) (string, bool)) (backend, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	switch {
	case be.s3 != nil:
		if be.s3.accessKey == "" {
			s := *be.s3
			s.accessKey, s.secretAccessKey, s.sessionToken = get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), get("AWS_SESSION_TOKEN")
			be.s3 = &s
		}
	case be.gcs != nil:
		if be.gcs.credentialsBlob == "" {
			g := *be.gcs
			if f := get("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
				data, err := os.ReadFile(f)
				if err != nil {
					return backend{}, fmt.Errorf("read GOOGLE_APPLICATION_CREDENTIALS: %w", err)
				}
				g.credentialsBlob = string(data)
			} else {
				g.credentialsBlob = get("GCS_SERVICE_ACCOUNT_JSON_KEY")
			}
			be.gcs = &g
		}
	case be.azure != nil:
		a := *be.azure
		if a.accountName == "" {
			a.accountName = get("AZURE_STORAGE_ACCOUNT")
		}
		if a.sharedKey == "" && a.accessSig == "" {
			a.sharedKey = get("AZURE_STORAGE_KEY")
		}
		be.azure = &a
	}
	return be, nil
}
