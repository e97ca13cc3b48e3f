package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client"
)

// The examples read keys from the same environment variables as `vippsmgmt quickstart`
// (VIPPSMGMT_CLIENT_ID, VIPPSMGMT_CLIENT_SECRET, VIPPSMGMT_SUBSCRIPTION_KEY) and talk to the
// server in VIPPSMGMT_BASE_URL, or to production. Their MSN and business identifier are the demo
// data's, which a local `vippsmgmt serve` loads and whose keys it prints. They compile as
// documentation and are not run by go test.

// baseURL is VIPPSMGMT_BASE_URL, such as http://127.0.0.1:8080, or production.
func baseURL() string {
	if base := os.Getenv("VIPPSMGMT_BASE_URL"); base != "" {
		return base
	}
	return client.ProductionURL
}

func newPartnerClient() *client.Client {
	c, err := client.New(baseURL(),
		client.WithPartnerKeys(os.Getenv("VIPPSMGMT_CLIENT_ID"), os.Getenv("VIPPSMGMT_CLIENT_SECRET"), os.Getenv("VIPPSMGMT_SUBSCRIPTION_KEY")),
		client.WithSystem("acme-pos", "3.1.2"),
		client.WithPlugin("acme-webshop", "4.5.6"),
	)
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// Step 2: get an access token with partner or merchant keys. The methods below do this
// themselves; Token shows what they use.
func ExampleClient_Token() {
	c := newPartnerClient()
	tok, err := c.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token valid for %s, until %s\n", tok.ExpiresIn, tok.ExpiresAt.Format(time.RFC3339))
}

// Step 2 for partners with management keys: the specialized flow, 15-minute tokens and no
// subscription key.
func ExampleWithManagementKeys() {
	c, err := client.New(baseURL(),
		client.WithManagementKeys(os.Getenv("VIPPSMGMT_CLIENT_ID"), os.Getenv("VIPPSMGMT_CLIENT_SECRET")),
		client.WithSystem("acme", "3.1.2"))
	if err != nil {
		log.Fatal(err)
	}
	units, err := c.GetAllSalesUnits(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(units), "sales units")
}

// Step 3: list all sales units.
func ExampleClient_GetAllSalesUnits() {
	c := newPartnerClient()
	units, err := c.GetAllSalesUnits(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range units {
		fmt.Println(u.Msn, u.Name)
	}
}

// Step 4: details of one sales unit, including its business identifier.
func ExampleClient_GetMsn() {
	c := newPartnerClient()
	su, err := c.GetMsn(context.Background(), "123456")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(su.Name, su.BusinessIdentifier.Scheme, su.BusinessIdentifier.Id)
}

// Step 5: a merchant's sales units.
func ExampleClient_GetSalesUnitsByBusinessIdentifier() {
	c := newPartnerClient()
	units, err := c.GetSalesUnitsByBusinessIdentifier(context.Background(),
		client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654325"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(units), "sales units")
}

// Step 6: a merchant's details. A merchant the keys may not see is 404, like one that does not
// exist.
func ExampleClient_GetMerchantByBusinessIdentifier() {
	c := newPartnerClient()
	m, err := c.GetMerchantByBusinessIdentifier(context.Background(),
		client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654325"})
	var p *client.Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		fmt.Println("no such merchant connected to us")
		return
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name, m.Status)
}

// Step 7: the product orders connected to the partner.
func ExampleClient_GetProductOrders() {
	c := newPartnerClient()
	orders, err := c.GetProductOrders(context.Background(), client.IncludeExpired())
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range orders {
		fmt.Println(*o.ProductOrderId, o.Status)
	}
}

// Step 8: prefill a product order on behalf of a merchant. The Idempotency-Key is generated and
// reused on retries; give your own to make a repeat after a crash safe too.
func ExampleClient_OrderProduct() {
	c := newPartnerClient()
	name := "ACME Fitness Majorstuen"
	res, err := c.OrderProduct(context.Background(), client.ProductOrderRequest{
		BusinessIdentifier: client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654325"},
		ProductType:        client.ProductTypeCheckout,
		SalesUnitName:      &name,
	}, client.WithIdempotencyKey("acme-order-42"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("send the merchant to", res.PrefillUrl)
}

// Step 9: follow a product order, by the PrefilledOrderId step 8 returned.
func ExampleClient_GetProductOrderDetails() {
	c := newPartnerClient()
	id, _ := client.ParseUUID("0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43")
	po, err := c.GetProductOrderDetails(context.Background(), id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(po.Status)
	if po.SalesUnit != nil {
		fmt.Println("new sales unit", po.SalesUnit.Msn, po.SalesUnit.Name)
	}
}

// Step 10: withdraw a prefilled order the merchant has not submitted, by the PrefilledOrderId
// step 8 returned.
func ExampleClient_DeleteProductOrder() {
	c := newPartnerClient()
	id, _ := client.ParseUUID("0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43")
	if err := c.DeleteProductOrder(context.Background(), id); err != nil {
		log.Fatal(err)
	}
}

// Step 11: the partner's price packages (partner or management keys only).
func ExampleClient_GetPartnerPricePackages() {
	c := newPartnerClient()
	pkgs, err := c.GetPartnerPricePackages(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range pkgs {
		fmt.Println(p.PricePackageId, p.Name, p.Description)
	}
}

// On a vippsmgmt server, the operator API plays the merchant and Vipps MobilePay: here the
// merchant submits a prefilled order and it is approved. The admin token is the one the server
// was started with (VIPPSMGMT_ADMIN_TOKEN), or the one it printed at start.
func ExampleAdmin_ApproveProductOrder() {
	c, err := client.New(os.Getenv("VIPPSMGMT_BASE_URL"), client.WithAdminToken(os.Getenv("VIPPSMGMT_ADMIN_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id, _ := client.ParseUUID("0190b1f4-6a3e-7c1d-9c2a-5d1e8f7a6b43")
	if _, err := c.Admin().SubmitProductOrder(ctx, id, nil); err != nil {
		log.Fatal(err)
	}
	su, err := c.Admin().ApproveProductOrder(ctx, id, client.AdminApproval{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created sales unit", su.Msn)
}

// Every error response is a *Problem, token endpoint errors included.
func ExampleProblem() {
	c := newPartnerClient()
	_, err := c.GetMsn(context.Background(), "123456")
	var p *client.Problem
	if errors.As(err, &p) {
		fmt.Println(p.Status, p.Title, p.Detail, p.Instance)
	}
}
