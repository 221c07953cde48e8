package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// writeJSONIndent answers the way PD's API renderer does: two-space indented JSON followed by
// a newline. Errors are rendered the same way, as a JSON string.
func writeJSONIndent(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeJSON answers with compact JSON, as TiDB, TiCDC and the admin API do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// pdStatus maps a model error to the status PD uses for it.
func pdStatus(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	switch model.KindOf(err) {
	case model.KindNotFound:
		return http.StatusNotFound
	case model.KindInvalid:
		return http.StatusBadRequest
	case model.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writePDError renders a PD error with the status pdStatus picks.
func writePDError(w http.ResponseWriter, err error) {
	writeJSONIndent(w, pdStatus(err), err.Error())
}

// httpError is an error with the exact status a handler wants to answer with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// withStatus forces the status an error is answered with, keeping its message.
func withStatus(status int, err error) error { return &httpError{status: status, msg: err.Error()} }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}
