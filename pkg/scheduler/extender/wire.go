package extender

import (
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// EventComponent is the source component of the events tidb-scheduler records, as in v1.6.
const EventComponent = "tidb-scheduler"

// Scheme holds the kinds the extender reads.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewForConfig builds an Extender that talks to the API server at cfg and records events
// through a broadcaster. Call the returned stop function on shutdown to flush and stop the
// broadcaster.
func NewForConfig(cfg *rest.Config, stableScheduling bool, logger logr.Logger) (*Extender, func(), error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, nil, fmt.Errorf("build the scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("build the API client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("build the event client: %w", err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme, corev1.EventSource{Component: EventComponent})
	ext := New(Config{Client: c, Recorder: recorder, StableScheduling: stableScheduling, Logger: logger})
	return ext, broadcaster.Shutdown, nil
}
