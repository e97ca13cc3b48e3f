package client_test

// The SDK against a real vippsmgmt server (internal/app on loopback, SQLite, demo data).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

func partnerClient(t *testing.T, base string, opts ...client.Option) *client.Client {
	k := fixtures.DemoPartnerKeys
	return newClient(t, base, append([]client.Option{client.WithPartnerKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey),
		client.WithSystem("client-test", "1.0"), client.WithAdminToken(testAdminToken)}, opts...)...)
}

func managementClient(t *testing.T, base string) *client.Client {
	k := fixtures.DemoManagementKeys
	return newClient(t, base, client.WithManagementKeys(k.ClientID, k.ClientSecret))
}

func merchantClient(t *testing.T, base string) *client.Client {
	k := fixtures.DemoMerchantKeys
	return newClient(t, base, client.WithMerchantKeys(k.ClientID, k.ClientSecret, k.SubscriptionKey))
}

func wantProblem(t *testing.T, err error, status int) *client.Problem {
	t.Helper()
	var p *client.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v (%T), want a *client.Problem with status %d", err, err, status)
	}
	if p.Status != status {
		t.Fatalf("status = %d (%v), want %d", p.Status, p, status)
	}
	return p
}

// quickStart runs steps 3 to 11 with c and checks each answer.
func quickStart(t *testing.T, c *client.Client, partner bool) {
	ctx := context.Background()
	units, err := c.GetAllSalesUnits(ctx)
	if err != nil {
		t.Fatalf("GetAllSalesUnits: %v", err)
	}
	if len(units) == 0 {
		t.Fatal("GetAllSalesUnits: no sales units in the demo data")
	}
	su, err := c.GetMsn(ctx, units[0].Msn)
	if err != nil {
		t.Fatalf("GetMsn: %v", err)
	}
	if su.Msn != units[0].Msn || su.Name != units[0].Name || su.BusinessIdentifier.Id == "" {
		t.Errorf("GetMsn = %+v, list said %+v", su, units[0])
	}
	bi := su.BusinessIdentifier
	merchantUnits, err := c.GetSalesUnitsByBusinessIdentifier(ctx, bi)
	if err != nil {
		t.Fatalf("GetSalesUnitsByBusinessIdentifier: %v", err)
	}
	if !slices.ContainsFunc(merchantUnits, func(m client.MsnInfo) bool { return m.Msn == su.Msn }) {
		t.Errorf("merchant's sales units %v lack %s", merchantUnits, su.Msn)
	}
	m, err := c.GetMerchantByBusinessIdentifier(ctx, bi)
	if err != nil {
		t.Fatalf("GetMerchantByBusinessIdentifier: %v", err)
	}
	if m.BusinessIdentifier != bi || m.Name == "" {
		t.Errorf("merchant = %+v", m)
	}
	before, err := c.GetProductOrders(ctx)
	if !partner {
		// This server keeps product orders and price packages to partners.
		wantProblem(t, err, http.StatusForbidden)
		_, err = c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: bi, ProductType: client.ProductTypeCheckout})
		wantProblem(t, err, http.StatusForbidden)
		_, err = c.GetPartnerPricePackages(ctx)
		wantProblem(t, err, http.StatusForbidden)
		return
	}
	if err != nil {
		t.Fatalf("GetProductOrders: %v", err)
	}
	name := "Client Test Shop"
	res, err := c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: bi, ProductType: client.ProductTypeCheckout, SalesUnitName: &name})
	if err != nil {
		t.Fatalf("OrderProduct: %v", err)
	}
	po, err := c.GetProductOrderDetails(ctx, res.PrefilledOrderId)
	if err != nil {
		t.Fatalf("GetProductOrderDetails: %v", err)
	}
	if po.Status != client.StatusReceived || po.ProductOrderType == nil || *po.ProductOrderType != client.ProductOrderTypePrefill ||
		po.ProductOrderUrl == nil || *po.ProductOrderUrl != res.PrefillUrl || po.BusinessIdentifier != bi {
		t.Errorf("details = %+v, prefill = %+v", po, res)
	}
	after, err := c.GetProductOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Errorf("product orders: %d before the prefill, %d after", len(before), len(after))
	}
	if err := c.DeleteProductOrder(ctx, res.PrefilledOrderId); err != nil {
		t.Fatalf("DeleteProductOrder: %v", err)
	}
	_, err = c.GetProductOrderDetails(ctx, res.PrefilledOrderId)
	wantProblem(t, err, http.StatusNotFound)
	err = c.DeleteProductOrder(ctx, res.PrefilledOrderId)
	wantProblem(t, err, http.StatusNotFound)

	pkgs, err := c.GetPartnerPricePackages(ctx)
	if err != nil {
		t.Fatalf("GetPartnerPricePackages: %v", err)
	}
	if len(pkgs) == 0 {
		t.Error("no price packages in the demo data")
	}
}

// TestServerQuickStart runs the quick start with each kind of key set; partner and management
// keys get a token of their own endpoint's lifetime.
func TestServerQuickStart(t *testing.T) {
	for _, tc := range []struct {
		keys             string
		client           func(t *testing.T, base string) *client.Client
		partner          bool
		minLife, maxLife time.Duration // of the token; 0: not checked
	}{
		{"partner", func(t *testing.T, base string) *client.Client { return partnerClient(t, base) }, true, 23 * time.Hour, 24 * time.Hour},
		{"management", managementClient, true, 15 * time.Minute, 15 * time.Minute},
		{"merchant", merchantClient, false, 0, 0},
	} {
		t.Run(tc.keys, func(t *testing.T) {
			c := tc.client(t, startServer(t))
			if tc.maxLife != 0 {
				tok, err := c.Token(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tok.TokenType != "Bearer" || tok.ExpiresIn < tc.minLife || tok.ExpiresIn > tc.maxLife {
					t.Errorf("token = %s for %v, want a Bearer token for %v to %v", tok.TokenType, tok.ExpiresIn, tc.minLife, tc.maxLife)
				}
			}
			quickStart(t, c, tc.partner)
		})
	}
}

func TestServerWrongKeys(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	p, m := fixtures.DemoPartnerKeys, fixtures.DemoManagementKeys
	for _, tc := range []struct {
		name   string
		opt    client.Option
		status int
		title  string
	}{
		{"unknown client id", client.WithPartnerKeys("00000000-0000-0000-0000-000000000000", p.ClientSecret, p.SubscriptionKey), 400, "unauthorized_client"},
		{"wrong secret", client.WithPartnerKeys(p.ClientID, "wrong", p.SubscriptionKey), 401, "invalid_client"},
		{"wrong subscription key", client.WithPartnerKeys(p.ClientID, p.ClientSecret, "wrong"), 401, "Unauthorized"},
		{"wrong management secret", client.WithManagementKeys(m.ClientID, "wrong"), 401, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, base, tc.opt)
			_, err := c.GetAllSalesUnits(ctx)
			pr := wantProblem(t, err, tc.status)
			if pr.Title != tc.title || pr.Detail == "" {
				t.Errorf("problem = %+v, want title %q and a detail", pr, tc.title)
			}
		})
	}
}

// TestServerExpiredTokenIsRenewed moves the server clock past the token lifetime: the SDK still
// holds the token it thinks is good, gets 401, fetches a new one and repeats the call.
func TestServerExpiredTokenIsRenewed(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		c       *client.Client
		advance time.Duration
	}{
		{"partner keys", partnerClient(t, base), 25 * time.Hour},
		{"management keys", managementClient(t, base), 16 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, err := tc.c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tc.c.GetAllSalesUnits(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := partnerClient(t, base).Admin().AdvanceClock(ctx, tc.advance); err != nil {
				t.Fatalf("AdvanceClock: %v", err)
			}
			if _, err := tc.c.GetAllSalesUnits(ctx); err != nil {
				t.Fatalf("call after the server clock moved: %v", err)
			}
			second, err := tc.c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if second.AccessToken == first.AccessToken {
				t.Error("the SDK kept the expired token")
			}
		})
	}
	// The server saw exactly one 401 per client, each followed by a token request and a success.
	reqs, err := partnerClient(t, base).Admin().ListRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var unauthorized int
	for _, r := range reqs {
		if r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized != 2 {
		t.Errorf("server answered 401 %d times, want 2", unauthorized)
	}
}

// salesUnits lists the sales units c sees, and reads the first in full.
func salesUnits(t *testing.T, c *client.Client) ([]client.MsnInfo, *client.SalesUnit) {
	t.Helper()
	units, err := c.GetAllSalesUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(units) == 0 {
		t.Fatal("no sales units")
	}
	su, err := c.GetMsn(t.Context(), units[0].Msn)
	if err != nil {
		t.Fatal(err)
	}
	return units, su
}

func TestServerIdempotency(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	c := partnerClient(t, base)
	_, su := salesUnits(t, c)
	order := client.ProductOrderRequest{BusinessIdentifier: su.BusinessIdentifier, ProductType: client.ProductTypeCheckout}
	a, err := c.OrderProduct(ctx, order, client.WithIdempotencyKey("client-test-1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.OrderProduct(ctx, order, client.WithIdempotencyKey("client-test-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.PrefilledOrderId != b.PrefilledOrderId {
		t.Errorf("same key gave orders %s and %s", a.PrefilledOrderId, b.PrefilledOrderId)
	}
	order.ProductType = client.ProductTypeLogin
	_, err = c.OrderProduct(ctx, order, client.WithIdempotencyKey("client-test-1"))
	wantProblem(t, err, http.StatusConflict)

	// Contract violations come back as Problems naming the field.
	_, err = c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: su.BusinessIdentifier, ProductType: "NOPE"})
	if p := wantProblem(t, err, http.StatusBadRequest); p.Detail == "" || p.Instance == "" {
		t.Errorf("400 problem = %+v", p)
	}
	_, err = c.GetMsn(ctx, "12")
	wantProblem(t, err, http.StatusBadRequest)
}

func TestServerAdminLifecycle(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	c := partnerClient(t, base)
	adm := c.Admin()
	units, su := salesUnits(t, c)
	bi := su.BusinessIdentifier
	prefill := func() client.UUID {
		t.Helper()
		res, err := c.OrderProduct(ctx, client.ProductOrderRequest{BusinessIdentifier: bi, ProductType: client.ProductTypePaymentIntegration})
		if err != nil {
			t.Fatal(err)
		}
		return res.PrefilledOrderId
	}

	// Approve: view, submit, approve; the partner then sees the new sales unit.
	id := prefill()
	if po, err := adm.ViewProductOrder(ctx, id); err != nil || po.Status != client.StatusMerchantViewed {
		t.Fatalf("ViewProductOrder = %v, %v", po, err)
	}
	salesUnitName := "Approved Shop"
	if po, err := adm.SubmitProductOrder(ctx, id, &client.OrderDetails{SalesUnitName: &salesUnitName}); err != nil || po.Status != client.StatusOrderSubmitted {
		t.Fatalf("SubmitProductOrder = %v, %v", po, err)
	}
	if po, err := adm.GetProductOrder(ctx, id); err != nil || po.Details.SalesUnitName == nil || *po.Details.SalesUnitName != salesUnitName {
		t.Fatalf("GetProductOrder = %+v, %v", po, err)
	}
	created, err := adm.ApproveProductOrder(ctx, id, client.AdminApproval{})
	if err != nil {
		t.Fatalf("ApproveProductOrder: %v", err)
	}
	po, err := c.GetProductOrderDetails(ctx, id)
	if err != nil || po.Status != client.StatusCompleted || po.SalesUnit == nil || po.SalesUnit.Msn != created.Msn {
		t.Fatalf("details after approval = %+v, %v; created %+v", po, err, created)
	}
	if _, err := c.GetMsn(ctx, created.Msn); err != nil {
		t.Errorf("partner cannot read the approved sales unit: %v", err)
	}
	_, err = adm.ApproveProductOrder(ctx, id, client.AdminApproval{})
	wantProblem(t, err, http.StatusConflict)
	if err := c.DeleteProductOrder(ctx, id); err == nil {
		t.Error("deleted a completed order")
	}

	// Reject.
	id2 := prefill()
	if _, err := adm.SubmitProductOrder(ctx, id2, nil); err != nil {
		t.Fatal(err)
	}
	if po, err := adm.RejectProductOrder(ctx, id2, "missing documents"); err != nil || po.Status != client.StatusRejected {
		t.Fatalf("RejectProductOrder = %v, %v", po, err)
	}
	rejected, err := adm.ListProductOrders(ctx, client.ProductOrderFilter{Status: client.StatusRejected})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rejected, func(o client.AdminProductOrder) bool { return o.ProductOrderId == id2 }) {
		t.Errorf("rejected orders %v lack %s", rejected, id2)
	}
	for _, o := range rejected {
		if o.Status != client.StatusRejected {
			t.Errorf("status filter let through %s", o.Status)
		}
	}
	if notes, err := adm.ListNotifications(ctx); err != nil || len(notes) == 0 {
		t.Errorf("ListNotifications = %d, %v; want the decision e-mails", len(notes), err)
	}

	// Expiry through the clock.
	id3 := prefill()
	clk, err := adm.AdvanceClock(ctx, 337*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if clk.Offset == "" {
		t.Errorf("clock = %+v", clk)
	}
	if got, err := adm.GetClock(ctx); err != nil || got.Now.Before(clk.Now) {
		t.Errorf("GetClock = %+v, %v", got, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		po, err := c.GetProductOrderDetails(ctx, id3)
		if err != nil {
			t.Fatal(err)
		}
		if po.Status == client.StatusExpired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order still %s after the clock passed 14 days", po.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	visible, err := c.GetProductOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.GetProductOrders(ctx, client.IncludeExpired())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(visible)+1 {
		t.Errorf("IncludeExpired listed %d orders, default %d; want one more", len(all), len(visible))
	}

	// Keys: issue, use, revoke.
	partners, err := adm.ListPartners(ctx)
	if err != nil || len(partners) == 0 {
		t.Fatalf("ListPartners = %v, %v", partners, err)
	}
	var partnerID string
	for _, p := range partners {
		keys, err := adm.ListPartnerKeys(ctx, p.PartnerId)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(keys, func(k client.AdminKey) bool { return k.ClientId == fixtures.DemoPartnerKeys.ClientID }) {
			partnerID = p.PartnerId
		}
	}
	if partnerID == "" {
		t.Fatal("no partner owns the demo partner keys")
	}
	pk, err := adm.CreatePartnerKeys(ctx, partnerID, client.KeyKindPartner)
	if err != nil || pk.SubscriptionKey == nil {
		t.Fatalf("CreatePartnerKeys = %+v, %v", pk, err)
	}
	fresh := newClient(t, base, client.WithPartnerKeys(pk.ClientId, pk.ClientSecret, *pk.SubscriptionKey))
	if _, err := fresh.GetPartnerPricePackages(ctx); err != nil {
		t.Errorf("new partner keys: %v", err)
	}
	mk, err := adm.CreatePartnerKeys(ctx, partnerID, client.KeyKindManagement)
	if err != nil || mk.SubscriptionKey != nil {
		t.Fatalf("CreatePartnerKeys(management) = %+v, %v", mk, err)
	}
	if _, err := newClient(t, base, client.WithManagementKeys(mk.ClientId, mk.ClientSecret)).GetAllSalesUnits(ctx); err != nil {
		t.Errorf("new management keys: %v", err)
	}
	merk, err := adm.CreateMerchantKeys(ctx, created.Msn)
	if err != nil || merk.SubscriptionKey == nil {
		t.Fatalf("CreateMerchantKeys = %+v, %v", merk, err)
	}
	merchant := newClient(t, base, client.WithMerchantKeys(merk.ClientId, merk.ClientSecret, *merk.SubscriptionKey))
	if got, err := merchant.GetMsn(ctx, created.Msn); err != nil || got.Msn != created.Msn {
		t.Errorf("new merchant keys: %+v, %v", got, err)
	}
	if k, err := adm.RevokeKey(ctx, pk.ClientId); err != nil || !k.Revoked {
		t.Fatalf("RevokeKey = %+v, %v", k, err)
	}
	// The revoked key's token stops working; the SDK fetches a new one, which is refused.
	_, err = fresh.GetPartnerPricePackages(ctx)
	wantProblem(t, err, http.StatusUnauthorized)

	// Catalogue.
	if pkgs, err := adm.ListPricePackages(ctx, partnerID); err != nil || len(pkgs) == 0 {
		t.Errorf("ListPricePackages = %v, %v", pkgs, err)
	}
	pp, err := adm.CreatePricePackage(ctx, partnerID, client.AdminPricePackageInput{Name: "Test package", Description: "1.99%"})
	if err != nil {
		t.Fatalf("CreatePricePackage: %v", err)
	}
	pkgs, err := c.GetPartnerPricePackages(ctx)
	if err != nil || !slices.ContainsFunc(pkgs, func(p client.PricePackage) bool { return p.PricePackageId == pp.PricePackageId }) {
		t.Errorf("partner's packages %v lack the new one (%v)", pkgs, err)
	}
	newBI := client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "999888798"}
	if _, err := adm.CreateMerchant(ctx, client.AdminMerchantInput{BusinessIdentifier: newBI, Name: "Client Test AS"}); err != nil {
		t.Fatalf("CreateMerchant: %v", err)
	}
	if ms, err := adm.ListMerchants(ctx, "Client Test"); err != nil || len(ms) != 1 {
		t.Errorf("ListMerchants = %v, %v", ms, err)
	}
	if _, err := adm.CreateSalesUnit(ctx, client.AdminSalesUnitInput{Msn: "7654321", Name: "Client Test Shop", BusinessIdentifier: newBI, PartnerId: &partnerID}); err != nil {
		t.Fatalf("CreateSalesUnit: %v", err)
	}
	if got, err := c.GetSalesUnitsByBusinessIdentifier(ctx, newBI); err != nil || len(got) != 1 {
		t.Errorf("partner's view of the new merchant = %v, %v", got, err)
	}
	inactive := client.SalesUnitStatusInactive
	if got, err := adm.UpdateSalesUnit(ctx, "7654321", client.AdminSalesUnitUpdate{Status: &inactive}); err != nil || got.Status != inactive {
		t.Errorf("UpdateSalesUnit = %+v, %v", got, err)
	}
	if got, err := adm.GetSalesUnit(ctx, "7654321"); err != nil || got.Status != inactive {
		t.Errorf("GetSalesUnit = %+v, %v", got, err)
	}
	_, err = c.GetMsn(ctx, "7654321")
	wantProblem(t, err, http.StatusNotFound)
	if sus, err := adm.ListSalesUnits(ctx, client.SalesUnitFilter{PartnerID: partnerID}); err != nil || len(sus) < len(units) {
		t.Errorf("ListSalesUnits = %d, %v; partner sees %d", len(sus), err, len(units))
	}

	// The operator API refuses a wrong token.
	bad := newClient(t, base, client.WithAdminToken("wrong"))
	_, err = bad.Admin().ListPartners(ctx)
	wantProblem(t, err, http.StatusUnauthorized)
}
