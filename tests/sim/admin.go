package sim

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// adminHandler serves the /_sim/ API described in package simapi.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	p := simapi.PathPrefix
	mux.HandleFunc("GET "+p+"healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, "ok")
	})

	mux.HandleFunc("GET "+p+"calls", s.adminCalls)
	mux.HandleFunc("DELETE "+p+"calls", func(w http.ResponseWriter, _ *http.Request) {
		s.calls.reset()
		w.WriteHeader(http.StatusNoContent)
	})

	mux.HandleFunc("GET "+p+"faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.faults.list())
	})
	mux.HandleFunc("POST "+p+"faults", s.adminAddFault)
	mux.HandleFunc("DELETE "+p+"faults", func(w http.ResponseWriter, _ *http.Request) {
		s.faults.clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE "+p+"faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.faults.remove(r.PathValue("id")) {
			http.Error(w, "no fault "+r.PathValue("id"), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	mux.HandleFunc("GET "+p+"clusters", s.adminClusters)
	mux.HandleFunc("GET "+p+"clusters/{ns}/{name}", s.adminCluster)
	mux.HandleFunc("PATCH "+p+"clusters/{ns}/{name}", s.adminPatchCluster)
	mux.HandleFunc("DELETE "+p+"clusters/{ns}/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.model.RemoveCluster(clusterKey(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PATCH "+p+"clusters/{ns}/{name}/stores/{id}", s.adminPatchStore)
	mux.HandleFunc("PATCH "+p+"clusters/{ns}/{name}/members/{member}", s.adminPatchMember)

	mux.HandleFunc("GET "+p+"pods", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.model.Pods())
	})
	mux.HandleFunc("PUT "+p+"pods/{ns}/{name}", s.adminPutPod)
	mux.HandleFunc("PATCH "+p+"pods/{ns}/{name}", s.adminPatchPod)
	mux.HandleFunc("DELETE "+p+"pods/{ns}/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.model.DeletePod(r.PathValue("ns"), r.PathValue("name"))
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func clusterKey(r *http.Request) model.ClusterKey {
	return model.ClusterKey{Namespace: r.PathValue("ns"), Name: r.PathValue("name")}
}

// adminError answers with a status that follows the model error's kind.
func adminError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch model.KindOf(err) {
	case model.KindNotFound, model.KindUnknownCluster:
		status = http.StatusNotFound
	case model.KindInvalid:
		status = http.StatusBadRequest
	}
	http.Error(w, err.Error(), status)
}

// decodeStrict reads a JSON body, refusing unknown fields so that a typo in a test's fault or
// patch is an error instead of a silent no-op.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "invalid request body: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) adminCalls(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			http.Error(w, "since must be a sequence number", http.StatusBadRequest)
			return
		}
		since = n
	}
	writeJSON(w, http.StatusOK, s.calls.since(since))
}

func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var f simapi.Fault
	if !decodeStrict(w, r, &f) {
		return
	}
	out, err := s.faults.add(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) adminClusters(w http.ResponseWriter, _ *http.Request) {
	out := []simapi.ClusterRef{}
	for _, k := range s.model.Clusters() {
		out = append(out, simapi.ClusterRef{Namespace: k.Namespace, Name: k.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminCluster(w http.ResponseWriter, r *http.Request) {
	st, err := s.model.Snapshot(clusterKey(r))
	if err != nil {
		adminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) adminPatchCluster(w http.ResponseWriter, r *http.Request) {
	var p simapi.ClusterPatch
	if !decodeStrict(w, r, &p) {
		return
	}
	if err := s.model.PatchCluster(clusterKey(r), p); err != nil {
		adminError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminPatchStore(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "store id must be a number", http.StatusBadRequest)
		return
	}
	var p simapi.StorePatch
	if !decodeStrict(w, r, &p) {
		return
	}
	if err := s.model.PatchStore(clusterKey(r), id, p); err != nil {
		adminError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminPatchMember(w http.ResponseWriter, r *http.Request) {
	var p simapi.MemberPatch
	if !decodeStrict(w, r, &p) {
		return
	}
	if err := s.model.PatchMember(clusterKey(r), r.PathValue("member"), p); err != nil {
		adminError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminPutPod(w http.ResponseWriter, r *http.Request) {
	var p simapi.Pod
	if !decodeStrict(w, r, &p) {
		return
	}
	if p.Namespace != r.PathValue("ns") || p.Name != r.PathValue("name") {
		http.Error(w, "the pod's namespace and name must match the path", http.StatusBadRequest)
		return
	}
	if !model.Simulated(p.Component) {
		http.Error(w, "component "+strconv.Quote(p.Component)+" is not simulated", http.StatusBadRequest)
		return
	}
	if err := s.model.UpsertPod(p); err != nil {
		adminError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminPatchPod(w http.ResponseWriter, r *http.Request) {
	var p simapi.PodPatch
	if !decodeStrict(w, r, &p) {
		return
	}
	if err := s.model.PatchPod(r.PathValue("ns"), r.PathValue("name"), p); err != nil {
		adminError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
