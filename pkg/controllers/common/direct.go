package common

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DirectReads returns a client that writes through c and reads through r. Controllers read from
// the informer cache to decide, but a read-modify-write transaction on a status that another
// process also writes (the backup-manager writes Backup, Restore and CompactBackup status) must
// start from the object as the API server has it now: a stale cached copy would only turn into
// a conflict and a retry. Pass the manager's client and its API reader.
func DirectReads(c client.Client, r client.Reader) client.Client {
	return directReads{Client: c, reader: r}
}

type directReads struct {
	client.Client
	reader client.Reader
}

func (d directReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return d.reader.Get(ctx, key, obj, opts...)
}

func (d directReads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return d.reader.List(ctx, list, opts...)
}
