package backupjob

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Event emits one event on obj through rec, about job when job is not nil; a nil rec emits
// nothing. note is formatted with args here and handed to the recorder as the finished
// message, so nothing it quotes (a BR error, a user's field) is formatted twice.
func Event(rec events.EventRecorder, obj runtime.Object, job *batchv1.Job, eventType, reason, action, note string, args ...any) {
	if rec == nil {
		return
	}
	// A nil *Job in the interface would not be a nil related object to the recorder.
	var related runtime.Object
	if job != nil {
		related = job
	}
	rec.Eventf(obj, related, eventType, reason, action, "%s", fmt.Sprintf(note, args...))
}
