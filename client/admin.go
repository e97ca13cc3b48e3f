package client

import (
	"context"
	"errors"
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
	var out T
	if err := a.c.do(ctx, call{method: method, auth: authAdmin, retryable: method == http.MethodGet, build: build}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func adminList[T any](ctx context.Context, a *Admin, build func(base string) (*http.Request, error)) ([]T, error) {
	p, err := adminDo[[]T](ctx, a, http.MethodGet, build)
	if err != nil {
		return nil, err
	}
	return *p, nil
}

// ProductOrderFilter narrows ListProductOrders; zero fields match everything.
type ProductOrderFilter struct {
	Status    ProductOrderStatus
	PartnerID string
}

// ListProductOrders lists product orders, newest first (GET /admin/v1/product-orders).
func (a *Admin) ListProductOrders(ctx context.Context, f ProductOrderFilter) ([]AdminProductOrder, error) {
	var params openapi.AdminListProductOrdersParams
	if f.Status != "" {
		params.Status = &f.Status
	}
	if f.PartnerID != "" {
		params.PartnerId = &f.PartnerID
	}
	return adminList[AdminProductOrder](ctx, a, func(base string) (*http.Request, error) {
		return openapi.NewAdminListProductOrdersRequest(base, &params)
	})
}

// GetProductOrder reads a product order with everything the merchant entered
// (GET /admin/v1/product-orders/{id}).
func (a *Admin) GetProductOrder(ctx context.Context, id UUID) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodGet, func(base string) (*http.Request, error) {
		return openapi.NewAdminGetProductOrderRequest(base, id)
	})
}

// ViewProductOrder records that the merchant opened the prefill link (MERCHANT_VIEWED).
func (a *Admin) ViewProductOrder(ctx context.Context, id UUID) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminViewProductOrderRequest(base, id)
	})
}

// SubmitProductOrder submits the order on the merchant's behalf (ORDER_SUBMITTED); non-nil
// fields of corrections replace what was prefilled.
func (a *Admin) SubmitProductOrder(ctx context.Context, id UUID, corrections *OrderDetails) (*AdminProductOrder, error) {
	var body OrderDetails
	if corrections != nil {
		body = *corrections
	}
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminSubmitProductOrderRequest(base, id, body)
	})
}

// ApproveProductOrder completes the order and returns the sales unit it created. Both fields of
// the approval are optional: the MSN defaults to the next free one, the merchant name (for a
// merchant not known yet) to the sales unit's name.
func (a *Admin) ApproveProductOrder(ctx context.Context, id UUID, approval AdminApproval) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminApproveProductOrderRequest(base, id, approval)
	})
}

// RejectProductOrder rejects the order. The reason goes to operators and the merchant, never to
// the partner.
func (a *Admin) RejectProductOrder(ctx context.Context, id UUID, reason string) (*AdminProductOrder, error) {
	return adminDo[AdminProductOrder](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminRejectProductOrderRequest(base, id, openapi.AdminRejection{Reason: reason})
	})
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

// ListPartners lists all partners.
func (a *Admin) ListPartners(ctx context.Context) ([]AdminPartner, error) {
	return adminList[AdminPartner](ctx, a, openapi.NewAdminListPartnersRequest)
}

// CreatePartner creates a partner.
func (a *Admin) CreatePartner(ctx context.Context, in AdminPartnerInput) (*AdminPartner, error) {
	return adminDo[AdminPartner](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreatePartnerRequest(base, in)
	})
}

// ListPartnerKeys lists a partner's key sets, without secrets.
func (a *Admin) ListPartnerKeys(ctx context.Context, partnerID string) ([]AdminKey, error) {
	return adminList[AdminKey](ctx, a, func(base string) (*http.Request, error) {
		return openapi.NewAdminListPartnerKeysRequest(base, partnerID)
	})
}

// CreatePartnerKeys issues a key set for a partner: KeyKindPartner (standard flow, with a
// subscription key) or KeyKindManagement (specialized flow). The secrets are in this answer only.
func (a *Admin) CreatePartnerKeys(ctx context.Context, partnerID string, kind KeyKind) (*AdminKeyCreated, error) {
	if kind != KeyKindPartner && kind != KeyKindManagement {
		return nil, errors.New("client: partner key kind must be partner or management")
	}
	return adminDo[AdminKeyCreated](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreatePartnerKeysRequest(base, partnerID, openapi.AdminPartnerKeyInput{Kind: openapi.AdminPartnerKeyInputKind(kind)})
	})
}

// CreateMerchantKeys issues a merchant key set for a sales unit. The secrets are in this answer
// only.
func (a *Admin) CreateMerchantKeys(ctx context.Context, msn string) (*AdminKeyCreated, error) {
	return adminDo[AdminKeyCreated](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreateMerchantKeysRequest(base, msn, openapi.AdminMerchantKeyInput{})
	})
}

// RevokeKey revokes a key set: its token requests fail from now on and its tokens stop working.
func (a *Admin) RevokeKey(ctx context.Context, clientID string) (*AdminKey, error) {
	return adminDo[AdminKey](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminRevokeKeyRequest(base, clientID)
	})
}

// ListPricePackages lists a partner's price packages.
func (a *Admin) ListPricePackages(ctx context.Context, partnerID string) ([]PricePackage, error) {
	return adminList[PricePackage](ctx, a, func(base string) (*http.Request, error) {
		return openapi.NewAdminListPricePackagesRequest(base, partnerID)
	})
}

// CreatePricePackage creates a price package for a partner.
func (a *Admin) CreatePricePackage(ctx context.Context, partnerID string, in AdminPricePackageInput) (*PricePackage, error) {
	return adminDo[PricePackage](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreatePricePackageRequest(base, partnerID, in)
	})
}

// ListMerchants lists merchants whose id or name contains query (all when empty).
func (a *Admin) ListMerchants(ctx context.Context, query string) ([]Merchant, error) {
	var params openapi.AdminListMerchantsParams
	if query != "" {
		params.Q = &query
	}
	return adminList[Merchant](ctx, a, func(base string) (*http.Request, error) {
		return openapi.NewAdminListMerchantsRequest(base, &params)
	})
}

// CreateMerchant creates a merchant.
func (a *Admin) CreateMerchant(ctx context.Context, in AdminMerchantInput) (*Merchant, error) {
	return adminDo[Merchant](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreateMerchantRequest(base, in)
	})
}

// SalesUnitFilter narrows ListSalesUnits; zero fields match everything.
type SalesUnitFilter struct {
	Query     string // case-insensitive search in MSNs and names
	PartnerID string
}

// ListSalesUnits lists sales units whatever their status.
func (a *Admin) ListSalesUnits(ctx context.Context, f SalesUnitFilter) ([]AdminSalesUnit, error) {
	var params openapi.AdminListSalesUnitsParams
	if f.Query != "" {
		params.Q = &f.Query
	}
	if f.PartnerID != "" {
		params.PartnerId = &f.PartnerID
	}
	return adminList[AdminSalesUnit](ctx, a, func(base string) (*http.Request, error) {
		return openapi.NewAdminListSalesUnitsRequest(base, &params)
	})
}

// CreateSalesUnit creates a sales unit of an existing merchant.
func (a *Admin) CreateSalesUnit(ctx context.Context, in AdminSalesUnitInput) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPost, func(base string) (*http.Request, error) {
		return openapi.NewAdminCreateSalesUnitRequest(base, in)
	})
}

// GetSalesUnit reads a sales unit.
func (a *Admin) GetSalesUnit(ctx context.Context, msn string) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodGet, func(base string) (*http.Request, error) {
		return openapi.NewAdminGetSalesUnitRequest(base, msn)
	})
}

// UpdateSalesUnit changes a sales unit; absent fields are left alone.
func (a *Admin) UpdateSalesUnit(ctx context.Context, msn string, in AdminSalesUnitUpdate) (*AdminSalesUnit, error) {
	return adminDo[AdminSalesUnit](ctx, a, http.MethodPatch, func(base string) (*http.Request, error) {
		return openapi.NewAdminUpdateSalesUnitRequest(base, msn, in)
	})
}

// ListNotifications lists the decision e-mails to partners and merchants, newest first.
func (a *Admin) ListNotifications(ctx context.Context) ([]AdminNotification, error) {
	return adminList[AdminNotification](ctx, a, openapi.NewAdminListNotificationsRequest)
}

// ListRequests lists recent Management and Access Token API requests, newest first.
func (a *Admin) ListRequests(ctx context.Context) ([]AdminRequest, error) {
	return adminList[AdminRequest](ctx, a, openapi.NewAdminListRequestsRequest)
}

// Report returns the integration report: per caller (key set), the habits of its integration
// that the real API answers without comment but that hurt in production, worst first
// (GET /admin/v1/report). A non-empty clientID narrows it to that caller.
func (a *Admin) Report(ctx context.Context, clientID string) (*AdminReport, error) {
	var params openapi.AdminGetReportParams
	if clientID != "" {
		params.ClientId = &clientID
	}
	return adminDo[AdminReport](ctx, a, http.MethodGet, func(base string) (*http.Request, error) {
		return openapi.NewAdminGetReportRequest(base, &params)
	})
}

// ResetReport forgets the report's counts and starts a new window (DELETE /admin/v1/report).
func (a *Admin) ResetReport(ctx context.Context) (*AdminReportWindow, error) {
	return adminDo[AdminReportWindow](ctx, a, http.MethodDelete, openapi.NewAdminResetReportRequest)
}
