// Package ticdcapi is the operator's client for TiCDC's HTTP API (port 8301). Status fills
// status.ticdc.captures; the owner-resign and capture-drain calls let a TiCDC pod hand its
// tables over before it is restarted or removed, so replication does not stall.
//
// Older TiCDC versions lack some endpoints (404, ErrUnsupported) and TiCDC answers 503 while it
// cannot serve a request yet (ErrUnavailable, retry later); both errors also carry the
// underlying *pdapi.HTTPError.
package ticdcapi
