package vippsmgmt

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApprovalSalesUnit(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	partner, pkg := "acme", "8a11afb7-c223-48ed-8ca6-4722b97261aa"
	m := &Merchant{BusinessIdentifier: BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654325"}, Name: "Kiosk AS", Status: MerchantActive}
	yes, no, capture := true, false, CaptureReserve
	named, empty := "Kiosk Sentrum", ""
	account := &BankAccount{Scheme: "BBAN:NO", ID: "12345678903"}
	cases := []struct {
		name        string
		productType string
		details     OrderDetails
		wantName    string
		wantPayment bool
		wantRecur   bool
	}{
		{"named by the order", "CHECKOUT", OrderDetails{SalesUnitName: &named, HasRecurring: &yes}, named, true, true},
		{"named after the merchant", "CASHIER", OrderDetails{}, m.Name, true, false},
		{"an empty name falls back to the merchant", "CHECKOUT", OrderDetails{SalesUnitName: &empty, HasRecurring: &no}, m.Name, true, false},
		{"login takes no payments", "LOGIN", OrderDetails{}, m.Name, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.details.PricePackageID, c.details.SettlementBankAccount = &pkg, account
			o := &ProductOrder{BusinessIdentifier: m.BusinessIdentifier, PartnerID: &partner, ProductType: c.productType, Details: c.details}
			got := o.ApprovalSalesUnit("123456", m, now)
			want := &SalesUnit{MSN: "123456", Name: c.wantName, Status: SalesUnitActive, Merchant: m.BusinessIdentifier,
				MerchantStatus: MerchantActive, PartnerID: &partner, SettlementBankAccount: account, PricePackageID: &pkg,
				Configuration: &Configuration{PaymentAllowed: &c.wantPayment, CaptureType: &capture, RecurringAllowed: &c.wantRecur},
				CreatedAt:     now, UpdatedAt: now}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the unit an approval creates is invalid: %v", err)
			}
		})
	}
}

func TestApprovalMerchant(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := &ProductOrder{BusinessIdentifier: BusinessIdentifier{Scheme: "business:DK:CVR", ID: "38472615"}}
	m, err := o.ApprovalMerchant("Hygge ApS", now)
	if err != nil {
		t.Fatal(err)
	}
	want := &Merchant{BusinessIdentifier: o.BusinessIdentifier, Name: "Hygge ApS", Status: MerchantActive, CountryCode: "DK", CreatedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := o.ApprovalMerchant("", now); ErrorCode(err) != EINVALID {
		t.Errorf("no name: got %v, want %s", err, EINVALID)
	}
	o.BusinessIdentifier.Scheme = "business-registry-number"
	if _, err := o.ApprovalMerchant("Nowhere", now); ErrorCode(err) != EINVALID {
		t.Errorf("no country: got %v, want %s", err, EINVALID)
	}
}

// TestValidateRejectionReason: the reason every entry point rejects an order with is required,
// text of one or more lines, and at most 500 characters (not bytes).
func TestValidateRejectionReason(t *testing.T) {
	for _, c := range []struct {
		name, reason, want string // want: the problem, "" for none
	}{
		{"given", "No licence.", ""},
		{"several lines", "No licence.\r\n\tSee the register.", ""},
		{"500 characters of two bytes", strings.Repeat("ø", 500), ""},
		{"missing", "", "reason: is required"},
		{"blank", " \n\t", "reason: must not be blank"},
		{"control character", "No\x07 licence", "reason: must not contain control characters"},
		{"not UTF-8", "Gr\xf8nn", "reason: must be valid UTF-8"},
		{"501 characters", strings.Repeat("x", 501), "reason: must be at most 500 characters"},
	} {
		err := ValidateRejectionReason(c.reason)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), c.want) {
			t.Errorf("%s: %v, want invalid with %q", c.name, err, c.want)
		}
	}
}

// TestSubmitProblems: the merchant's form cannot be submitted without what approval and
// processing need: a new business's name, a payout account for a product that takes payments, a
// website for PAYMENT_INTEGRATION; the contract's own checks come along.
func TestSubmitProblems(t *testing.T) {
	name, badMCC := "Kiosk AS", "x"
	account := &BankAccount{Scheme: "BBAN:NO", ID: "12345678903"}
	site := &Website{URL: "https://kiosk.example", TermsURL: "https://kiosk.example/terms"}
	complete := OrderDetails{MerchantName: &name, SettlementBankAccount: account, Website: site}
	without := func(change func(*OrderDetails)) OrderDetails {
		d := complete
		change(&d)
		return d
	}
	for _, c := range []struct {
		name          string
		productType   string
		details       OrderDetails
		merchantKnown bool
		want          []string // the fields with a problem
	}{
		{"complete", "PAYMENT_INTEGRATION", complete, false, nil},
		{"new business without a name", "CHECKOUT", without(func(d *OrderDetails) { d.MerchantName = nil }), false, []string{"merchantName"}},
		{"known business without a name", "CHECKOUT", without(func(d *OrderDetails) { d.MerchantName = nil }), true, nil},
		{"no settlement account", "CASHIER", without(func(d *OrderDetails) { d.SettlementBankAccount = nil }), true,
			[]string{"settlementBankAccount.scheme", "settlementBankAccount.id"}},
		{"donations pay out too", "DONATIONS", without(func(d *OrderDetails) { d.SettlementBankAccount = nil }), true,
			[]string{"settlementBankAccount.scheme", "settlementBankAccount.id"}},
		{"login takes no payments", "LOGIN", without(func(d *OrderDetails) { d.SettlementBankAccount, d.Website = nil, nil }), true, nil},
		{"online payments without a website", "PAYMENT_INTEGRATION", without(func(d *OrderDetails) { d.Website = nil }), true,
			[]string{"website.url", "website.termsUrl"}},
		{"in-store payments without a website", "CASHIER", without(func(d *OrderDetails) { d.Website = nil }), true, nil},
		{"a website without its terms", "PAYMENT_INTEGRATION", without(func(d *OrderDetails) { d.Website = &Website{URL: site.URL} }), true,
			[]string{"website.termsUrl"}},
		{"the contract's checks", "CHECKOUT", without(func(d *OrderDetails) { d.MerchantCategoryCode = &badMCC }), true,
			[]string{"merchantCategoryCode"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &ProductOrder{Type: OrderPrefill, ProductType: c.productType}
			var got []string
			for _, fe := range o.SubmitProblems(&c.details, c.merchantKnown) {
				got = append(got, fe.Field)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplySubmitForm: the form's submit moves the order as a plain submit does.
func TestApplySubmitForm(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := &ProductOrder{Type: OrderPrefill, Status: StatusMerchantViewed, CreatedAt: now.Add(-time.Hour)}
	if err := o.Apply(StepSubmitForm, now); err != nil || o.Status != StatusOrderSubmitted || o.SubmittedAt == nil {
		t.Fatalf("Apply = %v, status %s, submitted at %v", err, o.Status, o.SubmittedAt)
	}
	if err := o.Apply(StepSubmitForm, now); ErrorCode(err) != ECONFLICT {
		t.Errorf("second submit: got %v, want %s", err, ECONFLICT)
	}
}
