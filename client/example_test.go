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

// The examples read keys from the environment and talk to the server in VIPPSMGMT_BASE_URL (a
// local `vippsmgmt serve` prints demo keys), or to production. They compile as documentation
// and are not run by go test.

func newPartnerClient() *client.Client {
	base := os.Getenv("VIPPSMGMT_BASE_URL")
	if base == "" {
		base = client.ProductionURL
	}
	c, err := client.New(base,
		client.WithPartnerKeys(os.Getenv("VIPPS_CLIENT_ID"), os.Getenv("VIPPS_CLIENT_SECRET"), os.Getenv("VIPPS_SUBSCRIPTION_KEY")),
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
	c, err := client.New(client.ProductionURL,
		client.WithManagementKeys(os.Getenv("VIPPS_CLIENT_ID"), os.Getenv("VIPPS_CLIENT_SECRET")),
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
		client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"})
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
		client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"})
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
		BusinessIdentifier: client.BusinessIdentifier{Scheme: "business:NO:ORG", Id: "987654317"},
		ProductType:        client.ProductTypeCheckout,
		SalesUnitName:      &name,
	}, client.WithIdempotencyKey("acme-order-42"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("send the merchant to", res.PrefillUrl)
}

// Step 9: follow a product order.
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

// Step 10: withdraw a prefilled order the merchant has not submitted.
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
// merchant submits a prefilled order and it is approved.
func ExampleAdmin_ApproveProductOrder() {
	c, err := client.New("http://127.0.0.1:8080", client.WithAdminToken(os.Getenv("VIPPSMGMT_ADMIN_TOKEN")))
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
