package portal

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vippsmgmt/vippsmgmt/internal/buildinfo"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// QuickStartURL is the README's section on running the official quick start against vippsmgmt.
const QuickStartURL = "https://github.com/vippsmgmt/vippsmgmt#following-the-quick-start-against-vippsmgmt"

type landing struct {
	buildinfo.Info
	QuickStartURL string
}

// handleLanding serves GET /: a page naming the build and linking where to go next, for a
// browser. An API client asking for JSON (or anything but HTML) gets the API's 404 problem, as
// for any other path without a resource.
func (p *Portal) handleLanding(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	if !prefersHTML(r.Header.Values("Accept")) {
		problem.Write(w, problem.New(r.Context(), http.StatusNotFound, "not-found", "Not found", "No resource at "+r.URL.Path+"."))
		return
	}
	p.render(w, r, http.StatusOK, "landing", view{Title: "vippsmgmt", Nav: "home",
		Data: landing{Info: buildinfo.Get(), QuickStartURL: QuickStartURL}})
}

// prefersHTML reports whether an Accept header names text/html (or application/xhtml+xml) with
// a quality at least that of every JSON type it names. A wildcard alone does not count: curl and
// most HTTP libraries send */* and expect the API's answer.
func prefersHTML(accept []string) bool {
	var html, jsonQ float64 = -1, -1
	for _, header := range accept {
		for _, part := range strings.Split(header, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
			switch {
			case mediaType == "text/html" || mediaType == "application/xhtml+xml":
				html = max(html, q)
			case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
				jsonQ = max(jsonQ, q)
			}
		}
	}
	return html > 0 && html >= jsonQ
}
