package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"time"

	"github.com/vippsmgmt/vippsmgmt/client/internal/openapi"
)

// Admin calls the operator API of a vippsmgmt server (/admin/v1): the decisions Vipps MobilePay
// staff make in the real service, such as approving product orders and issuing keys. The real
// service has no such API. Every call needs WithAdminToken.
type Admin struct{ c *Client }

// Admin returns the operator API of the client's server.
func (c *Client) Admin() *Admin { return &Admin{c: c} }

// adminDo runs an operator call. GETs may be retried; the POSTs change state and are repeated
// only for 429 or a connection that was never made.
func adminDo[T any](ctx context.Context, a *Admin, method string, build func(base string) (*http.Request, error)) (*T, error) {
	return decoded[T](ctx, a.c, call{method: method, auth: authAdmin, retryable: method == http.MethodGet, build: build})
}

// withArg binds a generated request constructor to its one argument after the base URL.
func withArg[A any](newRequest func(base string, a A) (*http.Request, error), a A) func(base string) (*http.Request, error) {
	return func(base string) (*http.Request, error) { return newRequest(base, a) }
}

// withArgs binds a generated request constructor to its two arguments after the base URL.
func withArgs[A, B any](newRequest func(base string, a A, b B) (*http.Request, error), a A, b B) func(base string) (*http.Request, error) {
	return func(base string) (*http.Request, error) { return newRequest(base, a, b) }
}

// optional is nil for the zero value, the parameters and fields the request leaves out, and a
// pointer to a copy of v otherwise.
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// PageRequest asks for one page of an operator list: up to Limit items (0: the server's default,
// 100; at most 1000) after Cursor ("" for the first page).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of an operator list. NextCursor, as PageRequest.Cursor, fetches the next page;
// it is "" on the last page. Pages are keyset-based: walking them lists every item once, even
// while items are added.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// pageBuilder builds the request of a page; limit and cursor are nil when not given.
type pageBuilder func(base string, limit *int, cursor *string) (*http.Request, error)

// adminPage reads one page of an operator list.
func adminPage[T any](ctx context.Context, a *Admin, p PageRequest, build pageBuilder) (*Page[T], error) {
	limit, cursor := optional(p.Limit), optional(p.Cursor)
	resp, body, err := a.c.send(ctx, call{method: http.MethodGet, auth: authAdmin, retryable: true, build: func(base string) (*http.Request, error) {
		return build(base, limit, cursor)
	}})
	if err != nil {
		return nil, err
	}
	out := &Page[T]{NextCursor: resp.Header.Get("Vippsmgmt-Next-Cursor")}
	if err := decodeBody(resp, body, &out.Items); err != nil {
		return nil, err
	}
	return out, nil
}

// adminAll walks every page of an operator list and returns all its items.
func adminAll[T any](ctx context.Context, a *Admin, build pageBuilder) ([]T, error) {
	var all []T
	for item, err := range All(ctx, func(ctx context.Context, p PageRequest) (*Page[T], error) {
		return adminPage[T](ctx, a, p, build)
	}) {
		if err != nil {
			return nil, err
		}
		all = append(all, item)
	}
	return all, nil
}

// All yields every item of an operator list, reading one page at a time, so it holds one page in
// memory however long the list is. read is one of Admin's ListXPage methods, bound to its filter:
//
//	for o, err := range client.All(ctx, func(ctx context.Context, p client.PageRequest) (*client.Page[client.AdminProductOrder], error) {
//		return adm.ListProductOrdersPage(ctx, filter, p)
//	}) {
//
// An error ends the sequence, and so does a server that answers the same cursor twice or an
// empty page with a cursor.
func All[T any](ctx context.Context, read func(context.Context, PageRequest) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var p PageRequest
		for {
			page, err := read(ctx, p)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			if page.NextCursor == p.Cursor {
				var zero T
				yield(zero, errors.New("client: the server answered the same cursor twice"))
				return
			}
			// A cursor comes only while more items follow; one on an empty page could lead
			// through empty pages without end.
			if len(page.Items) == 0 {
				var zero T
				yield(zero, errors.New("client: the server answered an empty page with a next cursor"))
				return
			}
			p.Cursor = page.NextCursor
		}
	}
}

// ProductOrderFilter narrows ListProductOrders; zero fields match everything.
type ProductOrderFilter struct {
	Status    ProductOrderStatus
	PartnerID string
}

// ListProductOrders lists every product order, newest first, reading all pages
// (GET /admin/v1/product-orders).
func (a *Admin) ListProductOrders(ctx context.Context, f ProductOrderFilter) ([]AdminProductOrder, error) {
	return adminAll[AdminProductOrder](ctx, a, productOrderPages(f))
}

// ListProductOrdersPage reads one page of ListProductOrders.
func (a *Admin) ListProductOrdersPage(ctx context.Context, f ProductOrderFilter, p PageRequest) (*Page[AdminProductOrder], error) {
	return adminPage[AdminProductOrder](ctx, a, p, productOrderPages(f))
}

func productOrderPages(f ProductOrderFilter) pageBuilder {
	return func(base string, limit *int, cursor *string) (*http.Request, error) {
		return openapi.NewAdminListProductOrdersRequest(base, &openapi.AdminListProductOrdersParams{
			Limit: limit, Cursor: cursor, Status: optional(f.Status), PartnerId: optional(f.PartnerID),
		})
	}
}

// GetProductOrder reads a product order with everything the merchant entered
// (GET /admin/v1/product-orders/{id}).
func (a *Admin) GetProductOrder(ctx context.Context, id UUID) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodGet, withArg(openapi.NewAdminGetProductOrderRequest, id))
}

// ViewProductOrder records that the merchant opened the prefill link (MERCHANT_VIEWED).
func (a *Admin) ViewProductOrder(ctx context.Context, id UUID) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, withArg(openapi.NewAdminViewProductOrderRequest, id))
}

// SubmitProductOrder submits the order on the merchant's behalf (ORDER_SUBMITTED); non-nil
// fields of corrections replace what was prefilled.
func (a *Admin) SubmitProductOrder(ctx context.Context, id UUID, corrections *OrderDetails) (*AdminProductOrder, error) {
	var body OrderDetails
	if corrections != nil {
		body = *corrections
	}
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, withArgs(openapi.NewAdminSubmitProductOrderRequest, id, body))
}

// ApproveProductOrder completes the order and returns the sales unit it created. Both fields of
// the approval are optional: the MSN defaults to the next free one, the merchant name (for a
// merchant not known yet) to the sales unit's name.
func (a *Admin) ApproveProductOrder(ctx context.Context, id UUID, approval AdminApproval) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPost, withArgs(openapi.NewAdminApproveProductOrderRequest, id, approval))
}

// RejectProductOrder rejects the order. The reason goes to operators and the merchant, never to
// the partner.
func (a *Admin) RejectProductOrder(ctx context.Context, id UUID, reason string) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, withArgs(openapi.NewAdminRejectProductOrderRequest, id, openapi.AdminRejection{Reason: reason}))
}

// GetClock reads the server's clock (sandbox servers only).
func (a *Admin) GetClock(ctx context.Context) (*AdminClock, error) {
	return adminDo[AdminClock](ctx, a, http.MethodGet, openapi.NewAdminGetClockRequest)
}

// AdvanceClock moves a sandbox server's clock forward, for example by 337h to expire prefills
// or by 25h to expire access tokens.
func (a *Admin) AdvanceClock(ctx context.Context, d time.Duration) (*AdminClock, error) {
	if d <= 0 {
		return nil, errors.New("client: the clock only moves forward")
	}
	return adminDo[AdminClock](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		advance := d.String()
		return openapi.NewAdminAdvanceClockRequest(base, openapi.AdminClockAdvance{Advance: &advance})
	})
}

// ResetClock puts a sandbox server's clock back to real time.
func (a *Admin) ResetClock(ctx context.Context) (*AdminClock, error) {
	return adminDo[AdminClock](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		reset := true
		return openapi.NewAdminAdvanceClockRequest(base, openapi.AdminClockAdvance{Reset: &reset})
	})
}

// ListPartners lists all partners by id, reading all pages.
func (a *Admin) ListPartners(ctx context.Context) ([]AdminPartner, error) {
	return adminAll[AdminPartner](ctx, a, partnerPages)
}

// ListPartnersPage reads one page of ListPartners.
func (a *Admin) ListPartnersPage(ctx context.Context, p PageRequest) (*Page[AdminPartner], error) {
	return adminPage[AdminPartner](ctx, a, p, partnerPages)
}

func partnerPages(base string, limit *int, cursor *string) (*http.Request, error) {
	return openapi.NewAdminListPartnersRequest(base, &openapi.AdminListPartnersParams{Limit: limit, Cursor: cursor})
}

// CreatePartner creates a partner.
func (a *Admin) CreatePartner(ctx context.Context, in AdminPartnerInput) (*AdminPartner, error) {
	return adminDo[AdminPartner](ctx, a, http.MethodPost, withArg(openapi.NewAdminCreatePartnerRequest, in))
}

// ListPartnerKeys lists a partner's key sets, without secrets, reading all pages.
func (a *Admin) ListPartnerKeys(ctx context.Context, partnerID string) ([]AdminKey, error) {
	return adminAll[AdminKey](ctx, a, partnerKeyPages(partnerID))
}

// ListPartnerKeysPage reads one page of ListPartnerKeys.
func (a *Admin) ListPartnerKeysPage(ctx context.Context, partnerID string, p PageRequest) (*Page[AdminKey], error) {
	return adminPage[AdminKey](ctx, a, p, partnerKeyPages(partnerID))
}

func partnerKeyPages(partnerID string) pageBuilder {
	return func(base string, limit *int, cursor *string) (*http.Request, error) {
		return openapi.NewAdminListPartnerKeysRequest(base, partnerID, &openapi.AdminListPartnerKeysParams{Limit: limit, Cursor: cursor})
	}
}

// CreatePartnerKeys issues a key set for a partner: KeyKindPartner (standard flow, with a
// subscription key) or KeyKindManagement (specialized flow). The secrets are in this answer only.
func (a *Admin) CreatePartnerKeys(ctx context.Context, partnerID string, kind KeyKind) (*AdminKeyCreated, error) {
	if kind != KeyKindPartner && kind != KeyKindManagement {
		return nil, errors.New("client: partner key kind must be partner or management")
	}
	return adminDo[AdminKeyCreated](ctx, a, http.MethodPost, withArgs(openapi.NewAdminCreatePartnerKeysRequest, partnerID, openapi.AdminPartnerKeyInput{Kind: openapi.AdminPartnerKeyInputKind(kind)}))
}

// CreateMerchantKeys issues a merchant key set for a sales unit. The secrets are in this answer
// only.
func (a *Admin) CreateMerchantKeys(ctx context.Context, msn string) (*AdminKeyCreated, error) {
	return adminDo[AdminKeyCreated](ctx, a, http.MethodPost, withArgs(openapi.NewAdminCreateMerchantKeysRequest, msn, openapi.AdminMerchantKeyInput{}))
}

// RevokeKey revokes a key set: its token requests fail from now on and its tokens stop working.
func (a *Admin) RevokeKey(ctx context.Context, clientID string) (*AdminKey, error) {
	return adminDo[AdminKey](ctx, a, http.MethodPost, withArg(openapi.NewAdminRevokeKeyRequest, clientID))
}

// ListPricePackages lists a partner's price packages, reading all pages.
func (a *Admin) ListPricePackages(ctx context.Context, partnerID string) ([]PricePackage, error) {
	return adminAll[PricePackage](ctx, a, pricePackagePages(partnerID))
}

// ListPricePackagesPage reads one page of ListPricePackages.
func (a *Admin) ListPricePackagesPage(ctx context.Context, partnerID string, p PageRequest) (*Page[PricePackage], error) {
	return adminPage[PricePackage](ctx, a, p, pricePackagePages(partnerID))
}

func pricePackagePages(partnerID string) pageBuilder {
	return func(base string, limit *int, cursor *string) (*http.Request, error) {
		return openapi.NewAdminListPricePackagesRequest(base, partnerID, &openapi.AdminListPricePackagesParams{Limit: limit, Cursor: cursor})
	}
}

// CreatePricePackage creates a price package for a partner.
func (a *Admin) CreatePricePackage(ctx context.Context, partnerID string, in AdminPricePackageInput) (*PricePackage, error) {
	return adminDo[PricePackage](ctx, a, http.MethodPost, withArgs(openapi.NewAdminCreatePricePackageRequest, partnerID, in))
}

// ListMerchants lists merchants whose id or name contains query (all when empty), by name,
// reading all pages.
func (a *Admin) ListMerchants(ctx context.Context, query string) ([]Merchant, error) {
	return adminAll[Merchant](ctx, a, merchantPages(query))
}

// ListMerchantsPage reads one page of ListMerchants.
func (a *Admin) ListMerchantsPage(ctx context.Context, query string, p PageRequest) (*Page[Merchant], error) {
	return adminPage[Merchant](ctx, a, p, merchantPages(query))
}

func merchantPages(query string) pageBuilder {
	return func(base string, limit *int, cursor *string) (*http.Request, error) {
		return openapi.NewAdminListMerchantsRequest(base, &openapi.AdminListMerchantsParams{Limit: limit, Cursor: cursor, Q: optional(query)})
	}
}

// CreateMerchant creates a merchant.
func (a *Admin) CreateMerchant(ctx context.Context, in AdminMerchantInput) (*Merchant, error) {
	return adminDo[Merchant](ctx, a, http.MethodPost, withArg(openapi.NewAdminCreateMerchantRequest, in))
}

// SalesUnitFilter narrows ListSalesUnits; zero fields match everything.
type SalesUnitFilter struct {
	Query     string // case-insensitive search in MSNs and names
	PartnerID string
}

// ListSalesUnits lists sales units whatever their status, by MSN, reading all pages.
func (a *Admin) ListSalesUnits(ctx context.Context, f SalesUnitFilter) ([]AdminSalesUnit, error) {
	return adminAll[AdminSalesUnit](ctx, a, salesUnitPages(f))
}

// ListSalesUnitsPage reads one page of ListSalesUnits.
func (a *Admin) ListSalesUnitsPage(ctx context.Context, f SalesUnitFilter, p PageRequest) (*Page[AdminSalesUnit], error) {
	return adminPage[AdminSalesUnit](ctx, a, p, salesUnitPages(f))
}

func salesUnitPages(f SalesUnitFilter) pageBuilder {
	return func(base string, limit *int, cursor *string) (*http.Request, error) {
		return openapi.NewAdminListSalesUnitsRequest(base, &openapi.AdminListSalesUnitsParams{
			Limit: limit, Cursor: cursor, Q: optional(f.Query), PartnerId: optional(f.PartnerID),
		})
	}
}

// CreateSalesUnit creates a sales unit of an existing merchant.
func (a *Admin) CreateSalesUnit(ctx context.Context, in AdminSalesUnitInput) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPost, withArg(openapi.NewAdminCreateSalesUnitRequest, in))
}

// GetSalesUnit reads a sales unit.
func (a *Admin) GetSalesUnit(ctx context.Context, msn string) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodGet, withArg(openapi.NewAdminGetSalesUnitRequest, msn))
}

// UpdateSalesUnit changes a sales unit; absent fields are left alone.
func (a *Admin) UpdateSalesUnit(ctx context.Context, msn string, in AdminSalesUnitUpdate) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPatch, withArgs(openapi.NewAdminUpdateSalesUnitRequest, msn, in))
}

// ListNotifications lists the decision e-mails to partners and merchants, newest first, reading
// all pages.
func (a *Admin) ListNotifications(ctx context.Context) ([]AdminNotification, error) {
	return adminAll[AdminNotification](ctx, a, notificationPages)
}

// ListNotificationsPage reads one page of ListNotifications.
func (a *Admin) ListNotificationsPage(ctx context.Context, p PageRequest) (*Page[AdminNotification], error) {
	return adminPage[AdminNotification](ctx, a, p, notificationPages)
}

func notificationPages(base string, limit *int, cursor *string) (*http.Request, error) {
	return openapi.NewAdminListNotificationsRequest(base, &openapi.AdminListNotificationsParams{Limit: limit, Cursor: cursor})
}

// ListRequests lists the Management and Access Token API requests the server's request log
// keeps, newest first, reading all pages.
func (a *Admin) ListRequests(ctx context.Context) ([]AdminRequest, error) {
	return adminAll[AdminRequest](ctx, a, requestPages)
}

// ListRequestsPage reads one page of ListRequests.
func (a *Admin) ListRequestsPage(ctx context.Context, p PageRequest) (*Page[AdminRequest], error) {
	return adminPage[AdminRequest](ctx, a, p, requestPages)
}

func requestPages(base string, limit *int, cursor *string) (*http.Request, error) {
	return openapi.NewAdminListRequestsRequest(base, &openapi.AdminListRequestsParams{Limit: limit, Cursor: cursor})
}

// Report returns the integration report: per caller (key set), the habits of its integration
// that the real API answers without comment but that hurt in production, worst first
// (GET /admin/v1/report). A non-empty clientID narrows it to that caller.
func (a *Admin) Report(ctx context.Context, clientID string) (*AdminReport, error) {
	params := &openapi.AdminGetReportParams{ClientId: optional(clientID)}
	return adminDo[AdminReport](ctx, a, http.MethodGet, withArg(openapi.NewAdminGetReportRequest, params))
}

// ResetReport forgets the report's counts and starts a new window (DELETE /admin/v1/report).
func (a *Admin) ResetReport(ctx context.Context) (*AdminReportWindow, error) {
	return adminDo[AdminReportWindow](ctx, a, http.MethodDelete, openapi.NewAdminResetReportRequest)
}
