package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt"
)

// TestLogoErrorsArePages opens logo addresses that have no logo to show: each answers an HTML
// page with the status, as every other portal error does, not a plain-text line.
func TestLogoErrorsArePages(t *testing.T) {
	e, c := newConsole(t)
	ctx := context.Background()
	rejected := e.prefill()
	_, err := e.store.StepProductOrder(ctx, rejected, vippsmgmt.StepSubmit, nil, "")
	must(t, err)
	_, err = e.store.StepProductOrder(ctx, rejected, vippsmgmt.StepReject, nil, "Incomplete KYC")
	must(t, err)
	noLogo, _, err := e.store.CreateProductOrder(ctx, &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: ptr(partnerID),
		BusinessIdentifier: bi, ProductType: "PAYMENT_INTEGRATION"}, nil)
	must(t, err)
	const unknown = "01a23d74-8772-79d0-b940-77c71b98d6c5"
	for _, tc := range []struct {
		name, path string
		cookie     bool
		status     int
	}{
		{"merchant, unknown order", "/register/prefilled/" + unknown + "/logo.png", false, http.StatusNotFound},
		{"merchant, decided order", "/register/prefilled/" + rejected + "/logo.png", false, http.StatusGone},
		{"merchant, no logo", "/register/prefilled/" + noLogo + "/logo.png", false, http.StatusNotFound},
		{"console, unknown order", "/console/orders/" + unknown + "/logo.png", true, http.StatusNotFound},
		{"console, no logo", "/console/orders/" + noLogo + "/logo.png", true, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: "GET", path: tc.path}
			if tc.cookie {
				r.cookie = c
			}
			w := e.do(r)
			wantStatus(t, w, tc.status)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			checkPage(t, parseHTML(t, w.Body.String()))
		})
	}
}
