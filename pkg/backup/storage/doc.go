// Package storage is the one place in tidb-backup-manager that knows where a backup lives and how
// to reach it: Amazon S3 and S3-compatible stores, Google Cloud Storage, Azure Blob Storage, and
// a volume mounted into the Pod.
//
// A Location is read from a custom resource's storage provider (FromProvider). It spells BR's
// --storage URL (URL), the form that is safe to log (Redacted) and status.backupPath
// (StatusPath), all as v1.6 did, because BR and users' tooling depend on those exact strings.
//
// Open turns a Location into a Bucket with credentials taken only from the Job's environment,
// under the variable names v1.6's operator injects (AWS_ACCESS_KEY_ID, GCS_SERVICE_ACCOUNT_JSON_KEY,
// AZURE_STORAGE_KEY, …), so the backup-manager reads and deletes exactly what BR, given the same
// environment, wrote. A Bucket treats the backup's prefix as a folder: backup-1 never sees the
// objects of backup-10. Errors say what was being done and where (in the redacted form), and an
// error caused by credentials wraps ErrCredentials and names where the credentials came from,
// never their value.
//
// Clean deletes a backup: it refuses a prefix that could reach beyond one backup (CheckPrefix),
// deletes in batches with bounded concurrency, retries what a store reports as transient or
// throttled, and succeeds only once listing the prefix finds nothing.
package storage
