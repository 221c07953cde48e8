package task

import "context"

// Task is one named step of a reconcile.
type Task interface {
	Name() string
	Run(ctx context.Context) Result
}

type funcTask struct {
	name string
	fn   func(ctx context.Context) Result
}

func (t funcTask) Name() string                   { return t.name }
func (t funcTask) Run(ctx context.Context) Result { return t.fn(ctx) }

// NameTaskFunc makes a Task of a function. The name shows up in the summary log line, so make
// it say what the step is for ("PDStatefulSet", "WaitForPDAvailable").
func NameTaskFunc(name string, fn func(ctx context.Context) Result) Task {
	return funcTask{name: name, fn: fn}
}

// Condition decides at run time whether a combinator's steps run. It is evaluated when the
// combinator is reached, after the steps before it ran, so it sees their effects.
type Condition func() bool

type ifTask struct {
	cond   Condition
	tasks  []Task
	breaks bool
	name   string
}

func (t ifTask) Name() string { return t.name }

func (t ifTask) Run(ctx context.Context) Result {
	if !t.cond() {
		return Result{status: StatusComplete, message: "skipped"}
	}
	last := runList(ctx, t.tasks).deciding()
	if t.breaks && !last.stops() {
		return Result{status: StatusComplete, message: "remaining steps skipped", broke: true}
	}
	return last
}

// If runs tasks, in order and with the usual stop rules, only when cond holds.
func If(name string, cond Condition, tasks ...Task) Task {
	return ifTask{cond: cond, tasks: tasks, name: name}
}

// IfBreak runs tasks when cond holds and then ends the list, as if the remaining steps did not
// exist (the finally steps still run). It is how a reconcile takes an early exit, e.g. "the
// cluster is paused: only refresh status".
func IfBreak(name string, cond Condition, tasks ...Task) Task {
	return ifTask{cond: cond, tasks: tasks, breaks: true, name: name}
}
