package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// listLimit bounds the console's lists; the search box narrows them.
const listLimit = 200

func contains(q string, fields ...string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// failed reports a domain error on the page it came from, with its status; anything else is a 500.
func (p *Portal) failed(w http.ResponseWriter, r *http.Request, err error, retry func(status int, msg string)) {
	if !isDomain(err) {
		p.serverError(w, r, err)
		return
	}
	retry(problem.Status(vippsmgmt.ErrorCode(err)), errorText(err))
}

func redirect(w http.ResponseWriter, r *http.Request, path string, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

var doneText = map[string]string{
	"created": "Created.", "saved": "Saved.", "revoked": "The key set was revoked; it stops working at once.",
}
