package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// Example_readme is the program in the README: with partner keys from the environment it lists
// the partner's sales units, then prefills a product order for the first one's merchant, reads it
// and deletes it. In the README, main has this body and readme follows it unchanged.
func Example_readme() {
	if err := readme(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func readme(ctx context.Context, w io.Writer) error {
	// VIPPSMGMT_BASE_URL is https://api.vipps.no, or a vippsmgmt server such as http://127.0.0.1:8080.
	c, err := client.New(os.Getenv("VIPPSMGMT_BASE_URL"),
		client.WithPartnerKeys(os.Getenv("VIPPSMGMT_CLIENT_ID"), os.Getenv("VIPPSMGMT_CLIENT_SECRET"), os.Getenv("VIPPSMGMT_SUBSCRIPTION_KEY")),
		client.WithSystem("acme-pos", "1.0.0"))
	if err != nil {
		return err
	}

	units, err := c.GetAllSalesUnits(ctx)
	if err != nil {
		return err
	}
	for _, u := range units {
		fmt.Fprintln(w, "sales unit", u.Msn, u.Name)
	}
	if len(units) == 0 {
		return errors.New("no sales units")
	}
	su, err := c.GetMsn(ctx, units[0].Msn)
	if err != nil {
		return err
	}

	order, err := c.OrderProduct(ctx, client.ProductOrderRequest{
		BusinessIdentifier: su.BusinessIdentifier,
		ProductType:        client.ProductTypeCheckout,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "prefilled", order.PrefilledOrderId, "for the merchant at", order.PrefillUrl)

	details, err := c.GetProductOrderDetails(ctx, order.PrefilledOrderId)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "status", details.Status)

	if err := c.DeleteProductOrder(ctx, order.PrefilledOrderId); err != nil {
		return err
	}
	_, err = c.GetProductOrderDetails(ctx, order.PrefilledOrderId)
	var p *client.Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		fmt.Fprintln(w, "deleted:", p.Detail)
		return nil
	}
	return fmt.Errorf("the deleted order is still there: %v", err)
}

func TestReadmeProgram(t *testing.T) {
	base := startServer(t)
	k := fixtures.DemoPartnerKeys
	t.Setenv("VIPPSMGMT_BASE_URL", base)
	t.Setenv("VIPPSMGMT_CLIENT_ID", k.ClientID)
	t.Setenv("VIPPSMGMT_CLIENT_SECRET", k.ClientSecret)
	t.Setenv("VIPPSMGMT_SUBSCRIPTION_KEY", k.SubscriptionKey)
	var out bytes.Buffer
	if err := readme(context.Background(), &out); err != nil {
		t.Fatalf("readme program: %v\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())
	want := regexp.MustCompile(`(?s)^sales unit ` + fixtures.DemoMSN + ` .*\nprefilled [0-9a-f-]{36} for the merchant at ` + regexp.QuoteMeta(base) +
		`/register/prefilled/[0-9a-f-]{36}\nstatus RECEIVED\ndeleted: .+\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("output does not match %s:\n%s", want, out.String())
	}
}

// TestReadmeShowsTheTestedProgram keeps the README's copy of readme identical to the one
// TestReadmeProgram runs.
func TestReadmeShowsTheTestedProgram(t *testing.T) {
	src, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readmeMD, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)func readme\(ctx context.Context, w io.Writer\) error \{.*?\n\}\n`).Find(src)
	if fn == nil {
		t.Fatal("readme function not found")
	}
	if !bytes.Contains(readmeMD, fn) {
		t.Errorf("README.md does not contain the tested readme function:\n%s", fn)
	}
}
