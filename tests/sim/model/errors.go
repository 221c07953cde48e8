package model

import "errors"

// Kind classifies model errors so that HTTP handlers can pick the status code each simulated
// API would use.
type Kind int

const (
	// KindNotFound: the store, member, scheduler or capture does not exist.
	KindNotFound Kind = iota + 1
	// KindNotBootstrapped: no TiKV store has registered yet.
	KindNotBootstrapped
	// KindNoLeader: PD has no leader (lost quorum or no member).
	KindNoLeader
	// KindInvalid: the request is malformed or not allowed in the current state.
	KindInvalid
	// KindExists: the object already exists.
	KindExists
	// KindUnavailable: the component cannot serve the request now and the caller should retry.
	KindUnavailable
	// KindUnknownCluster: the simulator knows no such cluster.
	KindUnknownCluster
)

// Error is a model error with a kind and the message the simulated component would return.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrNotFound) and friends match on the kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is.
var (
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrNotBootstrapped = &Error{Kind: KindNotBootstrapped}
	ErrNoLeader        = &Error{Kind: KindNoLeader}
	ErrInvalid         = &Error{Kind: KindInvalid}
	ErrExists          = &Error{Kind: KindExists}
	ErrUnavailable     = &Error{Kind: KindUnavailable}
	ErrUnknownCluster  = &Error{Kind: KindUnknownCluster}
)

// KindOf returns the kind of a model error, or 0 for other errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// NotBootstrappedMessage is PD's error text before the first TiKV store registered. The
// operator recognises the condition by the suffix "TiKV cluster not bootstrapped, please start
// TiKV first".
const NotBootstrappedMessage = "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first"

func newErr(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }
