package backupjob

import (
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// recorder keeps the last event's related object and message.
type recorder struct {
	related runtime.Object
	message string
}

func (r *recorder) Eventf(_, related runtime.Object, _, _, _, note string, args ...any) {
	r.related, r.message = related, fmt.Sprintf(note, args...)
}

func TestEvent(t *testing.T) {
	Event(nil, &batchv1.Job{}, nil, corev1.EventTypeNormal, "R", "A", "no recorder: %s", "nothing")

	rec := &recorder{}
	var none *batchv1.Job
	Event(rec, &batchv1.Job{}, none, corev1.EventTypeWarning, "R", "A", "BR said %s", "100% done")
	if rec.related != nil {
		t.Fatalf("a nil Job became the related object %#v", rec.related)
	}
	if rec.message != "BR said 100% done" {
		t.Fatalf("message %q", rec.message)
	}
	j := &batchv1.Job{}
	Event(rec, &batchv1.Job{}, j, corev1.EventTypeNormal, "R", "A", "Job created")
	if rec.related != j {
		t.Fatalf("related %#v, want the Job", rec.related)
	}
}
