package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/vippsmgmt/vippsmgmt/client/internal/openapi"
)

// Management API operations, one method per operationId of the contract. Each needs a key set
// (WithPartnerKeys, WithMerchantKeys or WithManagementKeys).

// GetAllSalesUnits lists the sales units the caller may see: for partner keys every active sales
// unit connected to the partner (GET /management/v1/sales-units).
func (c *Client) GetAllSalesUnits(ctx context.Context) ([]MsnInfo, error) {
	return getList[MsnInfo](ctx, c, withArg(openapi.NewGetAllSalesUnitsRequest, nil))
}

// GetMsn reads one sales unit by its merchant serial number, including its business identifier
// (GET /management/v1/sales-units/{msn}).
func (c *Client) GetMsn(ctx context.Context, msn string) (*SalesUnit, error) {
	return getOne[SalesUnit](ctx, c, withArgs(openapi.NewGetMsnRequest, msn, nil))
}

// GetSalesUnitsByBusinessIdentifier lists a merchant's sales units that the caller may see
// (GET /management/v1/merchants/{scheme}/{id}/sales-units).
func (c *Client) GetSalesUnitsByBusinessIdentifier(ctx context.Context, bi BusinessIdentifier) ([]MsnInfo, error) {
	return getList[MsnInfo](ctx, c, func(base string) (*http.Request, error) {
		return openapi.NewGetSalesUnitsByBusinessIdentifierRequest(base, bi.Scheme, bi.Id, nil)
	})
}

// GetMerchantByBusinessIdentifier reads a merchant (GET /management/v1/merchants/{scheme}/{id}).
func (c *Client) GetMerchantByBusinessIdentifier(ctx context.Context, bi BusinessIdentifier) (*Merchant, error) {
	return getOne[Merchant](ctx, c, func(base string) (*http.Request, error) {
		return openapi.NewGetMerchantByBusinessIdentifierRequest(base, bi.Scheme, bi.Id, nil)
	})
}

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	includeExpired bool
}

// WithIdempotencyKey sets the Idempotency-Key of a prefill (OrderProduct) instead of a random
// one, so that a prefill repeated later, for example after a crash, returns the same order.
// 1 to 50 letters, digits or dashes.
func WithIdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// IncludeExpired makes GetProductOrders list expired orders too.
func IncludeExpired() CallOption {
	return func(o *callOptions) { o.includeExpired = true }
}

func collect(opts []CallOption) callOptions {
	var o callOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

var idempotencyKeyRE = regexp.MustCompile(`^[a-zA-Z0-9-]{1,50}$`)

// OrderProduct prefills a product order on behalf of a merchant
// (POST /management/v1/product-orders) and returns its id and the merchant's prefill link.
//
// Every call carries an Idempotency-Key: a random one unless WithIdempotencyKey gives it. The
// SDK's own retries (after a lost connection, 429 or 5xx) reuse the key, so they never create a
// second order.
func (c *Client) OrderProduct(ctx context.Context, order ProductOrderRequest, opts ...CallOption) (*ProductOrderResponse, error) {
	o := collect(opts)
	key := o.idempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	} else if !idempotencyKeyRE.MatchString(key) {
		return nil, fmt.Errorf("client: idempotency key %q: must be 1 to 50 letters, digits or dashes", key)
	}
	return decoded[ProductOrderResponse](ctx, c, call{
		method: http.MethodPost, auth: authKeys, retryable: true,
		build: withArgs(openapi.NewOrderProductRequest, &openapi.OrderProductParams{IdempotencyKey: key}, order),
	})
}

// GetProductOrders lists the product orders that name the partner (or, for merchant keys, the
// merchant's own), newest first; expired ones only with IncludeExpired
// (GET /management/v2/product-orders).
func (c *Client) GetProductOrders(ctx context.Context, opts ...CallOption) ([]ProductOrderDetails, error) {
	o := collect(opts)
	var params *openapi.GetProductOrdersParams
	if o.includeExpired {
		t := true
		params = &openapi.GetProductOrdersParams{IncludeExpired: &t}
	}
	return getList[ProductOrderDetails](ctx, c, withArg(openapi.NewGetProductOrdersRequest, params))
}

// GetProductOrderDetails reads one product order
// (GET /management/v2/product-orders/{productOrderId}/details).
func (c *Client) GetProductOrderDetails(ctx context.Context, productOrderID UUID) (*ProductOrderDetails, error) {
	return getOne[ProductOrderDetails](ctx, c, withArgs(openapi.NewGetProductOrderDetailsRequest, productOrderID, nil))
}

// DeleteProductOrder withdraws a prefilled product order the merchant has not submitted
// (DELETE /management/v1/product-orders/{productOrderId}). It is not retried after a lost
// connection: a repeat of a delete that did happen would report 404.
func (c *Client) DeleteProductOrder(ctx context.Context, productOrderID UUID) error {
	return c.do(ctx, call{method: http.MethodDelete, auth: authKeys, build: withArgs(openapi.NewDeleteProductOrderRequest, productOrderID, nil)}, nil)
}

// GetPartnerPricePackages lists the partner's price packages; it needs partner or management
// keys (GET /management/v1/partners/price-packages).
func (c *Client) GetPartnerPricePackages(ctx context.Context) ([]PricePackage, error) {
	return getList[PricePackage](ctx, c, withArg(openapi.NewGetPartnerPricePackagesRequest, nil))
}

// get is a Management API GET: authenticated with the keys and safe to retry.
func (c *Client) get(build func(base string) (*http.Request, error)) call {
	return call{method: http.MethodGet, auth: authKeys, retryable: true, build: build}
}

// getOne is a Management API GET of one resource.
func getOne[T any](ctx context.Context, c *Client, build func(base string) (*http.Request, error)) (*T, error) {
	return decoded[T](ctx, c, c.get(build))
}

// getList is a Management API GET of a list.
func getList[T any](ctx context.Context, c *Client, build func(base string) (*http.Request, error)) ([]T, error) {
	var out []T
	err := c.do(ctx, c.get(build), &out)
	return out, err
}

// Ready reports whether the server answers its readiness check (GET /readyz; a vippsmgmt
// extension, not part of the Vipps MobilePay API).
func (c *Client) Ready(ctx context.Context) error {
	err := c.do(ctx, call{method: http.MethodGet, build: openapi.NewGetReadyzRequest}, nil)
	var p *Problem
	if errors.As(err, &p) {
		return fmt.Errorf("not ready: %w", p)
	}
	return err
}
