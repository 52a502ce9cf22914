package server

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
)

// trackerJS is the browser tracker, plain ES5 with no build step.
//
//go:embed tracker/tb.js
var trackerJS []byte

// trackerETag identifies this build's tracker for conditional requests.
var trackerETag = func() string {
	sum := sha256.Sum256(trackerJS)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// registerTrackerRoutes registers the browser tracker at /js/tb.js.
func (s *Server) registerTrackerRoutes() {
	s.mux.HandleFunc("GET /js/tb.js", s.handleTracker)
}

// handleTracker serves tb.js. Sites embed it from any origin, so it is
// public; an hour of caching keeps it cheap while letting upgrades through,
// and the ETag makes revalidation a 304.
func (s *Server) handleTracker(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", trackerETag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == trackerETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(trackerJS)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(trackerJS)
	}
}
