package task

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Record is the outcome of one step that ran.
type Record struct {
	Name   string
	Result Result
}

// Summary is what one reconcile did.
type Summary struct {
	// Records lists every step that ran, main list first, then the finally steps.
	Records []Record
	// Duration is the wall time of the whole run.
	Duration time.Duration
	// Resync is the delay after which a reconcile that ended well runs again anyway; zero means
	// never. Component state that no watch reports (PD members, stores, TiDB health) is refreshed
	// this way.
	Resync time.Duration
}

type listOutcome struct {
	records []Record
	// stop is the result that ended the list early, if any.
	stop *Result
}

func (o listOutcome) deciding() Result {
	if o.stop != nil {
		return *o.stop
	}
	return Result{status: StatusComplete}
}

// runList runs tasks in order until one does not complete. The steps of an If or IfBreak are
// recorded individually (a skipped group leaves no record), so the summary names the steps that
// actually ran.
func runList(ctx context.Context, tasks []Task) listOutcome {
	out := listOutcome{}
	for _, t := range tasks {
		var r Result
		if g, ok := t.(ifTask); ok {
			if !g.cond() {
				continue
			}
			sub := runList(ctx, g.tasks)
			out.records = append(out.records, sub.records...)
			r = sub.deciding()
			if g.breaks && !r.stops() {
				r = Result{status: StatusComplete, message: "remaining steps skipped", broke: true}
				out.records = append(out.records, Record{Name: g.name, Result: r})
			}
		} else {
			r = t.Run(ctx)
			out.records = append(out.records, Record{Name: t.Name(), Result: r})
		}
		if r.stops() {
			out.stop = &r
			return out
		}
	}
	return out
}

// Runner runs a reconcile's steps.
type Runner struct {
	// Tasks run in order until one does not complete.
	Tasks []Task
	// Finally run after Tasks whatever their outcome, each regardless of the others.
	Finally []Task
	// Resync is copied into the Summary.
	Resync time.Duration
}

// Run executes the steps and returns the summary.
func (r Runner) Run(ctx context.Context) Summary {
	start := time.Now()
	main := runList(ctx, r.Tasks)
	s := Summary{Records: main.records, Resync: r.Resync}
	for _, t := range r.Finally {
		s.Records = append(s.Records, runList(ctx, []Task{t}).records...)
	}
	s.Duration = time.Since(start)
	return s
}

// Result turns the outcomes into what controller-runtime needs. This is the only place where
// that happens:
//   - any Fail: the errors (joined, so errors.Is still works) go back to controller-runtime,
//     which requeues with exponential backoff;
//   - otherwise the shortest Retry delay wins;
//   - Complete and Wait come back after Resync. Waits are mostly for state outside the API
//     server (PD becoming available), which no watch announces.
func (s Summary) Result() (ctrl.Result, error) {
	var errs []error
	var retry time.Duration
	for _, rec := range s.Records {
		switch rec.Result.status {
		case StatusFail:
			errs = append(errs, fmt.Errorf("%s: %w", rec.Name, rec.Result.err))
		case StatusRetry:
			if retry == 0 || rec.Result.after < retry {
				retry = rec.Result.after
			}
		}
	}
	if len(errs) > 0 {
		return ctrl.Result{}, errors.Join(errs...)
	}
	if retry > 0 && (s.Resync == 0 || retry < s.Resync) {
		return ctrl.Result{RequeueAfter: retry}, nil
	}
	return ctrl.Result{RequeueAfter: s.Resync}, nil
}

// Outcome is the status that decided the reconcile: the worst status of all steps, Fail being
// the worst and Complete the best.
func (s Summary) Outcome() Status {
	worst := StatusComplete
	for _, rec := range s.Records {
		if rec.Result.status > worst {
			worst = rec.Result.status
		}
	}
	return worst
}

// String renders the steps compactly: "Name=Status[(message)]" separated by spaces; steps that
// completed without a message show only their name.
func (s Summary) String() string {
	var b strings.Builder
	for i, rec := range s.Records {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(rec.Name)
		if rec.Result.status == StatusComplete && rec.Result.message == "" {
			continue
		}
		b.WriteByte('=')
		b.WriteString(rec.Result.status.String())
		if rec.Result.message != "" {
			b.WriteString("(" + rec.Result.message + ")")
		}
	}
	return b.String()
}

// Quiet reports whether the reconcile found nothing to do: every step completed without a
// message.
func (s Summary) Quiet() bool {
	for _, rec := range s.Records {
		if rec.Result.status != StatusComplete || rec.Result.message != "" {
			return false
		}
	}
	return true
}

// Log writes the one summary line of a reconcile: at info level when something happened or is
// pending, at debug level (V(1)) for the periodic reconciles that found everything in place,
// which would otherwise fill the log of a large installation.
func (s Summary) Log(log logr.Logger) {
	if s.Quiet() {
		log = log.V(1)
	}
	log.Info("reconcile finished", "outcome", s.Outcome().String(),
		"duration", s.Duration.Round(time.Millisecond).String(), "tasks", s.String())
}
