// Package brrun runs BR or tikv-ctl as a child process of tidb-backup-manager.
//
// The child runs in a process group of its own, so that whatever it starts can be stopped with
// it: when the Job's pod is told to stop (the context is cancelled), the whole group gets
// SIGTERM, and SIGKILL if it is still there after a grace period. When the child exits, what is
// left of its group is killed, so that nothing it started outlives it or keeps its output open.
//
// Its stdout and stderr are read line by line as they come, not collected until exit: each line
// goes to the pod log, prefixed with the tool's name and stream, and to the caller's handlers,
// which turn BR's progress lines into live status. A line longer than the read buffer is handed
// on in pieces rather than failing the run, since BR and tikv-ctl may log very long lines
// (whole configurations, JSON blobs).
//
// The command line is logged in its redacted form only, and the environment (where the storage
// credentials are) never. The tools' own output can hold secrets too (BR echoes its --storage
// URL, SDKs log signed request URLs), so Command.Redact rewrites every line before it reaches
// the log or a handler (the handlers build the failure message in the CR's status), and
// Command.QuietStdout keeps a stdout that is a secret as a whole (`br operator base64ify`'s)
// out of the log while the handler still gets it.
package brrun
