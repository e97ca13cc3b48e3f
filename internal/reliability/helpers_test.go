package reliability

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	problemJSON = "application/problem+json"
	jsonUTF8    = testserver.JSONUTF8
)

// issueKeys creates a key set through the operator API: kind partner or management for a partner,
// or merchant keys for a sales unit (msn != "").
func issueKeys(a testserver.Client, kind, partnerID, msn string) fixtures.Keys {
	a.T.Helper()
	var r testserver.Reply
	if msn != "" {
		r = a.Admin("POST", "/admin/v1/sales-units/"+msn+"/keys", map[string]any{}, 201)
	} else {
		r = a.Admin("POST", "/admin/v1/partners/"+partnerID+"/keys", map[string]any{"kind": kind}, 201)
	}
	var k struct {
		ClientID        string `json:"clientId"`
		ClientSecret    string `json:"clientSecret"`
		SubscriptionKey string `json:"subscriptionKey"`
	}
	r.JSON(a.T, &k)
	return fixtures.Keys{ClientID: k.ClientID, ClientSecret: k.ClientSecret, SubscriptionKey: k.SubscriptionKey}
}

// adminOrder is the part of an operator view of an order the tests look at.
type adminOrder struct {
	ProductOrderID     string            `json:"productOrderId"`
	PartnerID          *string           `json:"partnerId"`
	Status             string            `json:"status"`
	ProductType        string            `json:"productType"`
	BusinessIdentifier map[string]string `json:"businessIdentifier"`
	Details            map[string]any    `json:"details"`
	ExpiresAt          *time.Time        `json:"expiresAt"`
}

// adminOrders lists the orders matching query ("" or "?name=value..."), reading every page.
func adminOrders(a testserver.Client, query string) []adminOrder {
	a.T.Helper()
	sep := "?"
	if strings.Contains(query, "?") {
		sep = "&"
	}
	var out []adminOrder
	for page := query; ; {
		r := a.Admin("GET", "/admin/v1/product-orders"+page, nil, 200)
		var orders []adminOrder
		r.JSON(a.T, &orders)
		out = append(out, orders...)
		cursor := r.Header.Get("Vippsmgmt-Next-Cursor")
		if cursor == "" {
			return out
		}
		page = query + sep + "cursor=" + url.QueryEscape(cursor)
	}
}

// prefillBody is a valid prefill for the business identifier with a unique sales unit name.
func prefillBody(scheme, id, productType, name string) string {
	return fmt.Sprintf(`{"businessIdentifier":{"scheme":%q,"id":%q},"productType":%q,"salesUnitName":%q,`+
		`"settlementBankAccount":{"scheme":"BBAN:NO","id":"12345678903"},"annualTurnover":250000,`+
		`"website":{"url":"https://shop.example","termsUrl":"https://shop.example/terms"},"merchantCategoryCode":"5812"}`,
		scheme, id, productType, name)
}
