package sim

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// Handlers of the component APIs other than PD (§3.4–3.7 of the behaviour reference, plus the
// PD micro-service endpoints of §3.2).

// onPod runs fn on the cluster of the pod the request addressed.
func (s *Server) onPod(r *http.Request, fn func(c *model.Cluster, pod model.PodKey) error) error {
	info := infoFrom(r)
	return s.model.Cluster(info.cluster, func(c *model.Cluster) error { return fn(c, info.pod) })
}

// readPod is onPod for handlers whose fn cannot fail: the only error left is the cluster
// vanishing while the request was routed, which it answers like a pod whose name no longer
// resolves. It reports whether the handler may go on.
func (s *Server) readPod(w http.ResponseWriter, r *http.Request, fn func(c *model.Cluster, pod model.PodKey)) bool {
	err := s.onPod(r, func(c *model.Cluster, pod model.PodKey) error { fn(c, pod); return nil })
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return false
	}
	return true
}

// --- TiKV :20180 ---

func (s *Server) tikvHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.tikvMetrics)
	return mux
}

// tikvMetrics exposes the leader and region counts of the pod's store in Prometheus text
// format; the operator reads tikv_raftstore_region_count{type="leader"}.
func (s *Server) tikvMetrics(w http.ResponseWriter, r *http.Request) {
	var leaders, regions int
	if !s.readPod(w, r, func(c *model.Cluster, pod model.PodKey) { leaders, regions = c.TiKVLeaderCount(pod) }) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = fmt.Fprintf(w, "# HELP tikv_raftstore_region_count Number of regions collected in region_collection_worker\n"+
		"# TYPE tikv_raftstore_region_count gauge\n"+
		"tikv_raftstore_region_count{type=\"leader\"} %d\n"+
		"tikv_raftstore_region_count{type=\"region\"} %d\n", leaders, regions)
}

// --- TiDB :10080 ---

func (s *Server) tidbHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.tidbStatus)
	mux.HandleFunc("POST /labels", s.tidbLabels)
	mux.HandleFunc("POST /info", s.tidbInfo)
	mux.HandleFunc("GET /info", s.tidbInfo)
	return mux
}

type tidbStatus struct {
	Connections int    `json:"connections"`
	Version     string `json:"version"`
	GitHash     string `json:"git_hash"`
}

func (s *Server) tidbStatus(w http.ResponseWriter, r *http.Request) {
	var version string
	if !s.readPod(w, r, func(c *model.Cluster, pod model.PodKey) { version = c.TiDBVersion(pod) }) {
		return
	}
	writeJSON(w, http.StatusOK, tidbStatus{Version: "8.0.11-TiDB-" + version, GitHash: simGitHash})
}

func (s *Server) tidbLabels(w http.ResponseWriter, r *http.Request) {
	var labels map[string]string
	if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
		http.Error(w, "invalid labels: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.onPod(r, func(c *model.Cluster, pod model.PodKey) error {
		return c.SetTiDBLabels(pod, labels)
	}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, "success!")
}

type tidbInfo struct {
	IsOwner       bool   `json:"is_owner"`
	Version       string `json:"version"`
	GitHash       string `json:"git_hash"`
	DDLID         string `json:"ddl_id"`
	IP            string `json:"ip"`
	ListeningPort int    `json:"listening_port"`
	StatusPort    int    `json:"status_port"`
}

func (s *Server) tidbInfo(w http.ResponseWriter, r *http.Request) {
	var out tidbInfo
	if !s.readPod(w, r, func(c *model.Cluster, pod model.PodKey) {
		out = tidbInfo{
			IsOwner:       c.TiDBIsOwner(pod),
			Version:       "8.0.11-TiDB-" + c.TiDBVersion(pod),
			GitHash:       simGitHash,
			DDLID:         pod.Namespace + "/" + pod.Name,
			IP:            infoFrom(r).target.Host,
			ListeningPort: 4000,
			StatusPort:    10080,
		}
	}) {
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// --- TiFlash :20292 ---

func (s *Server) tiflashHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tiflash/store-status", s.tiflashStoreStatus)
	return mux
}

func (s *Server) tiflashStoreStatus(w http.ResponseWriter, r *http.Request) {
	var status string
	if !s.readPod(w, r, func(c *model.Cluster, pod model.PodKey) { status = c.TiFlashStoreStatus(pod) }) {
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(status))
}

// --- TiCDC :8301 ---

func (s *Server) ticdcHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.cdcStatus)
	mux.HandleFunc("GET /api/v1/captures", s.cdcCaptures)
	mux.HandleFunc("POST /api/v1/owner/resign", s.cdcResign)
	mux.HandleFunc("PUT /api/v1/captures/drain", s.cdcDrain)
	mux.HandleFunc("GET /api/v1/health", s.cdcHealth)
	return mux
}

type cdcStatus struct {
	Version string `json:"version"`
	GitHash string `json:"git_hash"`
	ID      string `json:"id"`
	Pid     int    `json:"pid"`
	IsOwner bool   `json:"is_owner"`
}

type cdcCapture struct {
	ID      string `json:"id"`
	IsOwner bool   `json:"is_owner"`
	Address string `json:"address"`
}

type cdcError struct {
	Msg  string `json:"error_msg"`
	Code string `json:"error_code"`
}

type cdcDrainResp struct {
	CurrentTableCount int `json:"current_table_count"`
}

func writeCDCError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	code := "CDC:ErrInternalServerError"
	switch model.KindOf(err) {
	case model.KindUnavailable:
		status, code = http.StatusServiceUnavailable, "CDC:ErrSchedulerRequestFailed"
	case model.KindNotFound, model.KindInvalid:
		// 404 would tell the operator "API not supported", so an unknown capture is a 400.
		status, code = http.StatusBadRequest, "CDC:ErrCaptureNotExist"
	}
	writeJSON(w, status, cdcError{Msg: err.Error(), Code: code})
}

func (s *Server) cdcStatus(w http.ResponseWriter, r *http.Request) {
	var out cdcStatus
	err := s.onPod(r, func(c *model.Cluster, pod model.PodKey) error {
		cp, ok := c.Capture(pod)
		if !ok {
			return &model.Error{Kind: model.KindUnavailable, Msg: "capture is not initialized"}
		}
		out = cdcStatus{Version: cp.Version, GitHash: simGitHash, ID: cp.ID, Pid: 1, IsOwner: cp.IsOwner}
		return nil
	})
	if err != nil {
		writeCDCError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cdcCaptures(w http.ResponseWriter, r *http.Request) {
	out := []cdcCapture{}
	if !s.readPod(w, r, func(c *model.Cluster, _ model.PodKey) {
		for _, cp := range c.Captures() {
			out = append(out, cdcCapture{ID: cp.ID, IsOwner: cp.IsOwner, Address: cp.Address})
		}
	}) {
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// cdcResign makes the owner hand over ownership; TiCDC answers 202 Accepted.
func (s *Server) cdcResign(w http.ResponseWriter, r *http.Request) {
	if !s.readPod(w, r, func(c *model.Cluster, _ model.PodKey) { c.ResignOwner() }) {
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// cdcDrain starts draining a capture and reports its remaining tables; 202 Accepted.
func (s *Server) cdcDrain(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CaptureID string `json:"capture_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.CaptureID == "" {
		writeJSON(w, http.StatusBadRequest, cdcError{Msg: "capture_id is required", Code: "CDC:ErrAPIInvalidParam"})
		return
	}
	var left int
	if err := s.onPod(r, func(c *model.Cluster, _ model.PodKey) error {
		var err error
		left, err = c.DrainCapture(in.CaptureID)
		return err
	}); err != nil {
		writeCDCError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, cdcDrainResp{CurrentTableCount: left})
}

// cdcHealth is healthy while the cluster has an owner capture.
func (s *Server) cdcHealth(w http.ResponseWriter, r *http.Request) {
	owner := false
	if !s.readPod(w, r, func(c *model.Cluster, _ model.PodKey) {
		for _, cp := range c.Captures() {
			owner = owner || cp.IsOwner
		}
	}) {
		return
	}
	if !owner {
		writeJSON(w, http.StatusInternalServerError, cdcError{Msg: "owner not found", Code: "CDC:ErrOwnerNotFound"})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// --- PD micro-services (tso, scheduling) :2379 ---

func (s *Server) microServiceHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tso/api/v1/health", s.msHealth)
	mux.HandleFunc("POST /{service}/api/v1/primary/transfer", s.msTransferPrimary)
	return mux
}

func (s *Server) msHealth(w http.ResponseWriter, r *http.Request) {
	if infoFrom(r).target.Component != "tso" {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) msTransferPrimary(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("service")
	if svc != infoFrom(r).target.Component {
		http.NotFound(w, r)
		return
	}
	var in struct {
		NewPrimary string `json:"new_primary"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSONIndent(w, http.StatusBadRequest, "invalid request: "+err.Error())
		return
	}
	if err := s.onPod(r, func(c *model.Cluster, _ model.PodKey) error {
		return c.TransferMicroServicePrimary(svc, in.NewPrimary)
	}); err != nil {
		writePDError(w, err)
		return
	}
	writeJSONIndent(w, http.StatusOK, "success")
}
