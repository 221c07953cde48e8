package task

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// recorder builds tasks that log their names when they run.
type recorder struct{ ran []string }

func (r *recorder) task(name string, res Result) Task {
	return NameTaskFunc(name, func(context.Context) Result {
		r.ran = append(r.ran, name)
		return res
	})
}

var errBoom = errors.New("boom")

func TestRunner(t *testing.T) {
	const resync = 30 * time.Second
	cases := map[string]struct {
		// build returns the main and finally lists.
		build func(r *recorder) (main, finally []Task)
		// wantRan are the tasks that ran, in order.
		wantRan []string
		// wantResult is the controller-runtime result.
		wantResult ctrl.Result
		// wantErr is matched with errors.Is; nil means no error.
		wantErr error
		// wantOutcome is the summary's outcome.
		wantOutcome Status
	}{
		"every step completes and the reconcile comes back after the resync period": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Complete("")), r.task("b", Complete("did b"))}, []Task{r.task("status", Complete(""))}
			},
			wantRan:     []string{"a", "b", "status"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
		"a failing step stops the list, finally still runs, and the error is returned": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Fail(errBoom)), r.task("b", Complete(""))}, []Task{r.task("status", Complete(""))}
			},
			wantRan:     []string{"a", "status"},
			wantErr:     errBoom,
			wantOutcome: StatusFail,
		},
		"a retry stops the list and asks to come back after its delay": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Retry(5*time.Second, "scaling")), r.task("b", Complete(""))}, nil
			},
			wantRan:     []string{"a"},
			wantResult:  ctrl.Result{RequeueAfter: 5 * time.Second},
			wantOutcome: StatusRetry,
		},
		"a retry longer than the resync period is capped by it": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Retry(time.Hour, "slow"))}, nil
			},
			wantRan:     []string{"a"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusRetry,
		},
		"a wait stops the list and leaves the requeue to the resync period": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Wait("PD is not available")), r.task("b", Complete(""))}, []Task{r.task("status", Complete(""))}
			},
			wantRan:     []string{"a", "status"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusWait,
		},
		"a failing finally step is reported even when the main list completed": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Complete(""))}, []Task{r.task("status", Fail(errBoom)), r.task("log", Complete(""))}
			},
			wantRan:     []string{"a", "status", "log"},
			wantErr:     errBoom,
			wantOutcome: StatusFail,
		},
		"the shortest retry wins between the main list and finally": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Retry(10*time.Second, ""))}, []Task{r.task("status", Retry(3*time.Second, ""))}
			},
			wantRan:     []string{"a", "status"},
			wantResult:  ctrl.Result{RequeueAfter: 3 * time.Second},
			wantOutcome: StatusRetry,
		},
		"If skips its steps when the condition is false and the list goes on": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{If("maybe", func() bool { return false }, r.task("x", Complete(""))), r.task("b", Complete(""))}, nil
			},
			wantRan:     []string{"b"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
		"If runs its steps when the condition holds and a wait inside stops the outer list": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{If("maybe", func() bool { return true }, r.task("x", Complete("")), r.task("y", Wait("w")), r.task("z", Complete(""))), r.task("b", Complete(""))}, nil
			},
			wantRan:     []string{"x", "y"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusWait,
		},
		"IfBreak runs its steps then ends the list without an error": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{r.task("a", Complete("")), IfBreak("paused", func() bool { return true }, r.task("x", Complete(""))), r.task("b", Complete(""))}, []Task{r.task("status", Complete(""))}
			},
			wantRan:     []string{"a", "x", "status"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
		"IfBreak nested in If ends the outer list too": {
			build: func(r *recorder) ([]Task, []Task) {
				inner := IfBreak("stop", func() bool { return true })
				return []Task{If("outer", func() bool { return true }, inner, r.task("x", Complete(""))), r.task("b", Complete(""))}, nil
			},
			wantRan:     nil,
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
		"IfBreak with a false condition does not break": {
			build: func(r *recorder) ([]Task, []Task) {
				return []Task{IfBreak("paused", func() bool { return false }, r.task("x", Complete(""))), r.task("b", Complete(""))}, nil
			},
			wantRan:     []string{"b"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
		"a conditions is evaluated when reached, after earlier steps changed state": {
			build: func(r *recorder) ([]Task, []Task) {
				flag := false
				set := NameTaskFunc("set", func(context.Context) Result { flag = true; return Complete("") })
				return []Task{set, If("check", func() bool { return flag }, r.task("x", Complete("")))}, nil
			},
			wantRan:     []string{"x"},
			wantResult:  ctrl.Result{RequeueAfter: resync},
			wantOutcome: StatusComplete,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &recorder{}
			main, finally := tc.build(r)
			s := Runner{Tasks: main, Finally: finally, Resync: resync}.Run(context.Background())
			if strings.Join(r.ran, ",") != strings.Join(tc.wantRan, ",") {
				t.Errorf("ran %v, want %v", r.ran, tc.wantRan)
			}
			res, err := s.Result()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v, want one matching %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tc.wantErr == nil && res != tc.wantResult {
				t.Errorf("result %+v, want %+v", res, tc.wantResult)
			}
			if got := s.Outcome(); got != tc.wantOutcome {
				t.Errorf("outcome %v, want %v", got, tc.wantOutcome)
			}
		})
	}
}

func TestFailKeepsTheErrorChain(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), errBoom)
	r := Fail(wrapped)
	if !errors.Is(r.Err(), errBoom) {
		t.Fatalf("Fail lost the error chain: %v", r.Err())
	}
	if r.Message() != wrapped.Error() {
		t.Fatalf("message %q, want %q", r.Message(), wrapped.Error())
	}
	if Fail(nil).Err() == nil {
		t.Fatal("Fail(nil) must still carry an error")
	}
}

func TestRetryHasAFloor(t *testing.T) {
	if got := Retry(0, "").RequeueAfter(); got != minRetry {
		t.Fatalf("Retry(0) asks for %v, want %v", got, minRetry)
	}
}

func TestSummaryLogLine(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	s := Runner{Tasks: []Task{
		NameTaskFunc("Quiet", func(context.Context) Result { return Complete("") }),
		NameTaskFunc("PDStatefulSet", func(context.Context) Result { return Complete("created") }),
		NameTaskFunc("WaitForPD", func(context.Context) Result { return Wait("PD is not available") }),
	}}.Run(context.Background())
	s.Log(log)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want exactly one", len(lines))
	}
	want := `Quiet PDStatefulSet=Complete(created) WaitForPD=Wait(PD is not available)`
	if !strings.Contains(lines[0], want) || !strings.Contains(lines[0], `"outcome"="Wait"`) {
		t.Fatalf("summary line %s does not contain %q and the outcome", lines[0], want)
	}
}

func TestQuietReconcilesLogAtDebugLevel(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{Verbosity: 0})
	s := Runner{Tasks: []Task{NameTaskFunc("Quiet", func(context.Context) Result { return Complete("") })}}.Run(context.Background())
	if !s.Quiet() {
		t.Fatal("a reconcile of completed steps without messages must be quiet")
	}
	s.Log(log)
	if len(lines) != 0 {
		t.Fatalf("a quiet reconcile logged at info level: %v", lines)
	}
	busy := Runner{Tasks: []Task{NameTaskFunc("Busy", func(context.Context) Result { return Complete("created") })}}.Run(context.Background())
	if busy.Quiet() {
		t.Fatal("a step that did something makes the reconcile not quiet")
	}
}
