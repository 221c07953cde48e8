package rollout

import (
	"fmt"
	"strings"
)

// Annotations the operator reads and writes.
const (
	// InputsAnnotation, on a workload, is the JSON of the inputs its live template was rendered
	// from (or, for an adopted template, the inputs it was found to implement).
	InputsAnnotation = "tidb.pingcap.com/rendered-from"
	// AdoptedAnnotation, on a workload, is when the operator adopted a template it had not
	// rendered (RFC 3339).
	AdoptedAnnotation = "tidb.pingcap.com/adopted-at"
	// RequestAnnotation, on a TidbCluster, asks for pending rollouts to be applied. Its value is
	// a token, for example the time of the request: each new value applies what is pending at
	// that moment once, so the annotation can stay in a manifest (GitOps) without applying
	// future rendering changes by itself.
	RequestAnnotation = "tidb.pingcap.com/apply-pending-rollout"
	// HonouredAnnotation, on a workload, is the RequestAnnotation value it last took into
	// account.
	HonouredAnnotation = "tidb.pingcap.com/applied-rollout-request"
)

// Action is what happens to the live template.
type Action string

const (
	// Apply writes the rendered template (a change of it rolls the pods through the
	// component's safe upgrade).
	Apply Action = "Apply"
	// Keep leaves the live template as it is; only replicas and the rollout partition change.
	Keep Action = "Keep"
)

// Reasons of a Decision; the Keep ones are the reasons of a PendingRollout.
const (
	ReasonCreate          = "Create"
	ReasonInSync          = "InSync"
	ReasonSpecChanged     = "SpecChanged"
	ReasonRequested       = "Requested"
	ReasonConfigMissing   = "ConfigMapMissing"
	ReasonSpecNotMet      = "SpecNotImplemented"
	ReasonAdopted         = "Adopted"
	ReasonRenderingChange = "RenderingChanged"
)

// Facts are what the caller found out about one workload.
type Facts struct {
	// Exists: the workload exists.
	Exists bool
	// InSync: the rendered template (and ConfigMap) equal the live ones.
	InSync bool
	// Recorded: the live workload carries a readable InputsAnnotation.
	Recorded bool
	// SpecChanged: rendering the recorded inputs gives something other than rendering the
	// current ones (only meaningful when Recorded).
	SpecChanged bool
	// Mismatches: what of the spec the live template does not implement (only looked at
	// without a record); empty means it implements the spec.
	Mismatches []string
	// Requested: the TidbCluster's RequestAnnotation has a value this workload has not
	// honoured yet.
	Requested bool
	// ConfigMissing: the ConfigMap the live template mounts does not exist, so its pods could
	// not start again; there is nothing worth keeping.
	ConfigMissing bool
}

// Decision is what to do with one workload.
type Decision struct {
	Action Action
	Reason string
	// Adopt: record the current inputs on a template the operator did not render, keeping it.
	Adopt bool
	// Pending: the live template is kept although the rendering differs.
	Pending bool
}

// Decide applies the rule: create what is missing; write the rendering when it changes nothing,
// when the spec changed, when the user asked, or when a template without a record does not
// implement the spec; otherwise keep the live template and report the difference.
func Decide(f Facts) Decision {
	switch {
	case !f.Exists:
		return Decision{Action: Apply, Reason: ReasonCreate}
	case f.InSync:
		return Decision{Action: Apply, Reason: ReasonInSync}
	case f.Recorded && f.SpecChanged:
		return Decision{Action: Apply, Reason: ReasonSpecChanged}
	case f.Requested:
		return Decision{Action: Apply, Reason: ReasonRequested}
	case f.ConfigMissing:
		return Decision{Action: Apply, Reason: ReasonConfigMissing}
	case f.Recorded:
		return Decision{Action: Keep, Reason: ReasonRenderingChange, Pending: true}
	case len(f.Mismatches) == 0:
		return Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true}
	default:
		return Decision{Action: Apply, Reason: ReasonSpecNotMet}
	}
}

// Requested reports whether the TidbCluster's request token (its RequestAnnotation, "" when
// absent) is one the workload (its HonouredAnnotation) has not taken into account.
func Requested(clusterToken, honoured string) bool {
	return clusterToken != "" && clusterToken != honoured
}

// Explain is the event text of a decision that changes a template or adopts one, "" for the
// others.
func Explain(d Decision, object string, mismatches, differences []string) string {
	switch d.Reason {
	case ReasonSpecNotMet:
		return fmt.Sprintf("%s was not rendered by this operator and does not implement the spec (%s): rolling it as an upgrade", object, list(mismatches))
	case ReasonAdopted:
		msg := fmt.Sprintf("adopted %s as it is: its pods already implement the spec", object)
		if len(differences) > 0 {
			msg += fmt.Sprintf("; this operator's rendering differs (%s) and waits for the next spec change or the annotation %s", list(differences), RequestAnnotation)
		}
		return msg
	case ReasonConfigMissing:
		return fmt.Sprintf("%s mounts a ConfigMap that does not exist: writing this operator's rendering", object)
	case ReasonRequested:
		return fmt.Sprintf("applying the pending rollout of %s, as %s asks", object, RequestAnnotation)
	}
	return ""
}

// list joins at most maxListed entries for a message.
func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}

// maxListed bounds the entries of a message or of a PendingRollout.
const maxListed = 8
