// Package backupenv starts real storage and SQL servers for the backup tests: an S3 server
// (versitygw), a GCS server (fake-gcs-server), an Azure Blob server (Azurite) and a server that
// speaks the MySQL protocol (MariaDB). Doubles of the storage SDKs would only test our
// assumptions about them; these servers check request signing, path-style addressing, paging,
// batch deletes and the SQL the backup-manager sends against real implementations.
//
// Every server belongs to one test:
//
//	s3 := backupenv.S3(t)        // versitygw on 127.0.0.1:<free port>
//	s3.CreateBucket(t, "backups")
//	// run the code under test against s3.Endpoint with s3.Env() in its environment,
//	// then inspect the bucket with s3.Client()
//
// All of them listen on loopback only, on a port that was free when they started, keep their
// data in a folder of their own and are stopped when the test ends. The folder (data and the
// server's log) is removed when the test passes; when it fails the folder is kept, and its path
// and the end of the server's log are written to the test log. WithDir puts the data in a
// caller's folder instead, which is then never removed (for example to restart a server on the
// same data). WithTLS makes MySQL accept TCP clients over TLS with a client certificate only,
// from certificates generated for the server (MySQLServer.TLSDir is the client's folder).
//
// S3, Azure and MySQL run a separate process. It leads its own process group and has the
// parent-death signal set, so the kernel kills it when the test binary dies without cleaning up
// (a timeout panic, SIGKILL). GCS runs inside the test process, serving real HTTP on loopback,
// so other processes the test starts (the backup-manager binary, a br double) reach it too; it
// lives exactly as long as the test.
//
// The servers are installed on first use by hack/testservers.sh and cached by version under
// ${XDG_CACHE_HOME:-$HOME/.cache}/tidb-operator (versitygw is built from the Go module proxy,
// Azurite comes from the npm registry; MariaDB is installed with apt-get, which needs root as on
// CI). The first use on a fresh machine therefore takes a minute or two; `make testbin` does it
// up front. The environment variables EnvVersitygw, EnvAzuriteBlob and EnvMariadbd name
// executables to use instead.
//
// Under `go test -short` the tests that need a separate server process are skipped (S3, Azure
// and MySQL call t.Skip); GCS, which needs neither an install nor a process, still runs.
//
// The package is Linux-only: it relies on process groups and the parent-death signal.
package backupenv
