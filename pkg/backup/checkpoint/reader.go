package checkpoint

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/connectivity"
)

// Defaults of Options.
const (
	// DefaultDialTimeout is v1.6's PD etcd dial timeout.
	DefaultDialTimeout = 5 * time.Second
	// DefaultRequestTimeout bounds one read, the connection included.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultIdleTimeout is long against the tracker's one-minute polls, so a client is only
	// closed once nothing polls its cluster any more.
	DefaultIdleTimeout = 10 * time.Minute
)

// Options configure a Reader. Zero values take the defaults above.
type Options struct {
	// DialTimeout is how long a call waits for the connection to PD's etcd to become ready
	// before it fails with a connection error.
	DialTimeout time.Duration
	// RequestTimeout bounds a whole Checkpoint call, connecting included.
	RequestTimeout time.Duration
	// IdleTimeout closes a client that no call used for that long; negative keeps clients
	// until Close.
	IdleTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o
}

// errClosed is returned by calls on a closed Reader.
var errClosed = errors.New("checkpoint reader is closed")

// Reader reads checkpoints, keeping one etcd client per endpoint. It is safe for concurrent
// use.
type Reader struct {
	opts Options

	mu      sync.Mutex
	closed  bool
	clients map[string]*client
	// stopSweep ends the idle sweeper; nil until the first client is made.
	stopSweep chan struct{}
	sweepDone chan struct{}
}

// client is one cached etcd client. A client that is replaced or found idle while calls still
// use it is retired: it is closed when the last of those calls ends, not under them.
type client struct {
	endpoint string
	tls      *tls.Config
	cli      *clientv3.Client
	lastUsed time.Time
	inflight int
	retired  bool
	// shut is set once cli is closed, so that Close and a call ending do not both close it.
	shut bool
}

// shutLocked closes the etcd client once.
func (c *client) shutLocked() error {
	if c.shut {
		return nil
	}
	c.shut = true
	return c.cli.Close()
}

// NewReader returns a Reader; Close it to release its connections.
func NewReader(opts Options) *Reader {
	return &Reader{opts: opts.withDefaults(), clients: map[string]*client{}}
}

// Checkpoint returns the TSO at /tidb/br-stream/checkpoint/<task> in the etcd of the PD at
// endpoint (host:port, e.g. Endpoint's), over TLS when tlsConfig is not nil. It returns an error
// wrapping ErrNoCheckpoint when the key is absent.
func (r *Reader) Checkpoint(ctx context.Context, endpoint string, tlsConfig *tls.Config, task string) (uint64, error) {
	fail := func(err error) (uint64, error) {
		return 0, fmt.Errorf("read the checkpoint of log backup task %q from PD etcd at %s: %w", task, endpoint, err)
	}
	if endpoint == "" || task == "" {
		return fail(errors.New("both the endpoint and the task name are required"))
	}
	c, err := r.acquire(endpoint, tlsConfig)
	if err != nil {
		return fail(err)
	}
	defer r.release(c)

	ctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
	defer cancel()
	if err := r.waitReady(ctx, c.cli); err != nil {
		return fail(err)
	}
	resp, err := c.cli.Get(ctx, Key(task))
	if err != nil {
		return fail(err)
	}
	if len(resp.Kvs) == 0 {
		return fail(ErrNoCheckpoint)
	}
	ts, err := Decode(resp.Kvs[0].Value)
	if err != nil {
		return fail(err)
	}
	return ts, nil
}

// waitReady waits up to DialTimeout for the client's connection. etcd's client only connects
// when asked and then waits for readiness as long as the call's context allows; waiting here
// first lets an unreachable PD fail fast with a connection error rather than the read's
// generic deadline.
func (r *Reader) waitReady(ctx context.Context, cli *clientv3.Client) error {
	conn := cli.ActiveConnection()
	state := conn.GetState()
	if state == connectivity.Ready {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
	defer cancel()
	conn.Connect()
	for state = conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if state == connectivity.Shutdown {
			return errors.New("the etcd client was closed")
		}
		if !conn.WaitForStateChange(dctx, state) {
			if ctx.Err() != nil {
				return fmt.Errorf("connect (last state %s): %w", state, ctx.Err())
			}
			return fmt.Errorf("not connected within %s (last state %s): %w", r.opts.DialTimeout, state, dctx.Err())
		}
	}
	return nil
}

// acquire returns the endpoint's client, made on first use or when the TLS configuration
// changed, and counts the call against it.
func (r *Reader) acquire(endpoint string, tlsConfig *tls.Config) (*client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	c := r.clients[endpoint]
	if c != nil && !sameTLS(c.tls, tlsConfig) {
		r.retireLocked(c)
		c = nil
	}
	if c == nil {
		// Making a client does not dial (etcd's client connects lazily), so holding the lock
		// here costs no network round trip.
		cfg := clientv3.Config{
			Endpoints:   []string{endpoint},
			DialTimeout: r.opts.DialTimeout,
			// Keepalives notice a dead PD (or a dropped proxy tunnel) between polls, so the next
			// call reconnects instead of waiting on a silent connection.
			DialKeepAliveTime:    30 * time.Second,
			DialKeepAliveTimeout: 10 * time.Second,
			// The operator logs through logr; the client's own zap output would be a second,
			// unstructured stream.
			Logger: zap.NewNop(),
		}
		if tlsConfig != nil {
			cfg.TLS = tlsConfig.Clone()
		}
		cli, err := clientv3.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("make etcd client: %w", err)
		}
		c = &client{endpoint: endpoint, tls: cfg.TLS, cli: cli}
		r.clients[endpoint] = c
		r.startSweeperLocked()
	}
	c.inflight++
	c.lastUsed = time.Now()
	return c, nil
}

func (r *Reader) release(c *client) {
	r.mu.Lock()
	c.inflight--
	c.lastUsed = time.Now()
	if c.retired && c.inflight == 0 {
		_ = c.shutLocked()
	}
	r.mu.Unlock()
}

// retireLocked forgets c and closes it now, or when its last call ends.
func (r *Reader) retireLocked(c *client) {
	if r.clients[c.endpoint] == c {
		delete(r.clients, c.endpoint)
	}
	c.retired = true
	if c.inflight == 0 {
		// Closing does not block on the network (it cancels the client's context), so it is
		// done under the lock.
		_ = c.shutLocked()
	}
}

func (r *Reader) startSweeperLocked() {
	if r.opts.IdleTimeout < 0 || r.stopSweep != nil {
		return
	}
	r.stopSweep, r.sweepDone = make(chan struct{}), make(chan struct{})
	period := max(r.opts.IdleTimeout/2, 10*time.Millisecond)
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.sweep(time.Now())
			}
		}
	}(r.stopSweep, r.sweepDone)
}

// sweep closes the clients no call has used for IdleTimeout.
func (r *Reader) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clients {
		if c.inflight == 0 && now.Sub(c.lastUsed) >= r.opts.IdleTimeout {
			r.retireLocked(c)
		}
	}
}

// Close closes every client; calls after it fail. Calls still running finish with a closed
// client's error.
func (r *Reader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	var errs []error
	for _, c := range r.clients {
		delete(r.clients, c.endpoint)
		c.retired = true
		if err := c.shutLocked(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("close etcd client of %s: %w", c.endpoint, err))
		}
	}
	stop, done := r.stopSweep, r.sweepDone
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return errors.Join(errs...)
}

// sameTLS reports whether two TLS configurations make the same client: both plain, or with
// the same server name, verification, CAs and client certificates. Callbacks such as
// GetClientCertificate cannot be compared and are ignored.
func sameTLS(a, b *tls.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a == b {
		return true
	}
	if a.ServerName != b.ServerName || a.InsecureSkipVerify != b.InsecureSkipVerify || !a.RootCAs.Equal(b.RootCAs) {
		return false
	}
	if len(a.Certificates) != len(b.Certificates) {
		return false
	}
	for i := range a.Certificates {
		ca, cb := a.Certificates[i].Certificate, b.Certificates[i].Certificate
		if len(ca) != len(cb) {
			return false
		}
		for j := range ca {
			if !bytes.Equal(ca[j], cb[j]) {
				return false
			}
		}
	}
	return true
}
