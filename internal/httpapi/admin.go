package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// The operator API (/admin/v1) does what the console does, for scripts and tests. The admin-token
// check happens before routing (Server.authenticate).

func (s *Server) adminOrderOut(o *vippsmgmt.ProductOrder) (openapi.AdminProductOrder, error) {
	now := s.clock.Now()
	wire := s.orderOut(o, now)
	out := openapi.AdminProductOrder{
		BusinessIdentifier: wire.BusinessIdentifier, ProductOrderId: *wire.ProductOrderId,
		ProductOrderType: *wire.ProductOrderType, ProductType: *wire.ProductType, Status: wire.Status,
		ProductOrderUrl: wire.ProductOrderUrl, SalesUnit: wire.SalesUnit, PartnerId: o.PartnerID,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, ViewedAt: o.ViewedAt, SubmittedAt: o.SubmittedAt,
		DecidedAt: o.DecidedAt,
	}
	if o.RejectionReason != "" {
		out.RejectionReason = &o.RejectionReason
	}
	if o.Type == vippsmgmt.OrderPrefill {
		exp := o.ExpiresAt()
		out.ExpiresAt = &exp
	}
	err := convertJSON(o.Details, &out.Details)
	return out, err
}

func (s *Server) adminSalesUnitOut(su *vippsmgmt.SalesUnit) openapi.AdminSalesUnit {
	out := openapi.AdminSalesUnit{
		Msn: su.MSN, Name: su.Name, Status: openapi.SalesUnitStatus(su.Status),
		BusinessIdentifier: openapi.BusinessIdentifier{Scheme: su.Merchant.Scheme, Id: su.Merchant.ID},
		Configuration:      configurationOut(su.Configuration), PartnerId: su.PartnerID,
		CreatedAt: su.CreatedAt, UpdatedAt: su.UpdatedAt,
	}
	if su.SettlementBankAccount != nil {
		out.SettlementBankAccount = &openapi.BankAccount{Scheme: su.SettlementBankAccount.Scheme, Id: su.SettlementBankAccount.ID}
	}
	if su.PricePackageID != nil {
		id := uuid.MustParse(*su.PricePackageID)
		out.PricePackageId = &id
	}
	return out
}

func keyOut(k *vippsmgmt.APIKey) openapi.AdminKey {
	return openapi.AdminKey{ClientId: k.ClientID, Kind: openapi.KeyKind(k.Kind), PartnerId: k.PartnerID, Msn: k.MSN, Revoked: k.Revoked, CreatedAt: k.CreatedAt}
}

func issuedOut(is *credentials.Issued) openapi.AdminKeyCreated {
	out := openapi.AdminKeyCreated{ClientId: is.ClientID, ClientSecret: is.ClientSecret, Kind: openapi.KeyKind(is.Kind)}
	if is.SubscriptionKey != "" {
		out.SubscriptionKey = &is.SubscriptionKey
	}
	if is.PartnerID != "" {
		out.PartnerId = &is.PartnerID
	}
	if is.MSN != "" {
		out.Msn = &is.MSN
	}
	return out
}

// AdminListProductOrders serves GET /admin/v1/product-orders.
func (s *Server) AdminListProductOrders(ctx context.Context, req openapi.AdminListProductOrdersRequestObject) (openapi.AdminListProductOrdersResponseObject, error) {
	f := vippsmgmt.ProductOrderFilter{IncludeExpired: true, PartnerID: req.Params.PartnerId}
	if req.Params.Status != nil {
		f.Statuses = []string{string(*req.Params.Status)}
	}
	orders, err := s.store.FindProductOrders(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListProductOrders200JSONResponse, 0, len(orders))
	for _, o := range orders {
		w, err := s.adminOrderOut(o)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// AdminGetProductOrder serves GET /admin/v1/product-orders/{productOrderId}.
func (s *Server) AdminGetProductOrder(ctx context.Context, req openapi.AdminGetProductOrderRequestObject) (openapi.AdminGetProductOrderResponseObject, error) {
	o, err := s.store.FindProductOrderByID(ctx, req.ProductOrderId.String())
	if err != nil {
		return nil, err
	}
	out, err := s.adminOrderOut(o)
	return openapi.AdminGetProductOrder200JSONResponse(out), err
}

func (s *Server) stepOrder(ctx context.Context, id uuid.UUID, step string, details *vippsmgmt.OrderDetails, reason string) (openapi.AdminProductOrder, error) {
	o, err := s.store.StepProductOrder(ctx, id.String(), step, details, reason)
	if err != nil {
		return openapi.AdminProductOrder{}, err
	}
	return s.adminOrderOut(o)
}

// AdminViewProductOrder serves POST /admin/v1/product-orders/{productOrderId}/view: what opening
// the prefill link does.
func (s *Server) AdminViewProductOrder(ctx context.Context, req openapi.AdminViewProductOrderRequestObject) (openapi.AdminViewProductOrderResponseObject, error) {
	out, err := s.stepOrder(ctx, req.ProductOrderId, vippsmgmt.StepView, nil, "")
	return openapi.AdminViewProductOrder200JSONResponse(out), err
}

// AdminSubmitProductOrder serves POST /admin/v1/product-orders/{productOrderId}/submit: what the
// merchant's submit does, optionally with corrected details.
func (s *Server) AdminSubmitProductOrder(ctx context.Context, req openapi.AdminSubmitProductOrderRequestObject) (openapi.AdminSubmitProductOrderResponseObject, error) {
	var details *vippsmgmt.OrderDetails
	if req.Body != nil {
		o, err := s.store.FindProductOrderByID(ctx, req.ProductOrderId.String())
		if err != nil {
			return nil, err
		}
		d := o.Details
		if err := mergeJSON(req.Body, &d); err != nil {
			return nil, err
		}
		d.PricePackageID = o.Details.PricePackageID // chosen by the partner; the merchant cannot change it
		if err := vippsmgmt.InvalidFields(d.Validate()); err != nil {
			return nil, err
		}
		details = &d
	}
	out, err := s.stepOrder(ctx, req.ProductOrderId, vippsmgmt.StepSubmit, details, "")
	return openapi.AdminSubmitProductOrder200JSONResponse(out), err
}

// mergeJSON overlays the fields present in src onto dst.
func mergeJSON(src, dst any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	if bytes.Equal(b, []byte("{}")) {
		return nil
	}
	return json.Unmarshal(b, dst)
}

// AdminApproveProductOrder serves POST /admin/v1/product-orders/{productOrderId}/approve.
func (s *Server) AdminApproveProductOrder(ctx context.Context, req openapi.AdminApproveProductOrderRequestObject) (openapi.AdminApproveProductOrderResponseObject, error) {
	var a vippsmgmt.Approval
	if req.Body != nil {
		if req.Body.Msn != nil {
			a.MSN = *req.Body.Msn
		}
		if req.Body.MerchantName != nil {
			a.MerchantName = *req.Body.MerchantName
		}
	}
	_, su, err := s.store.ApproveProductOrder(ctx, req.ProductOrderId.String(), a)
	if err != nil {
		return nil, err
	}
	return openapi.AdminApproveProductOrder200JSONResponse(s.adminSalesUnitOut(su)), nil
}

// AdminRejectProductOrder serves POST /admin/v1/product-orders/{productOrderId}/reject.
func (s *Server) AdminRejectProductOrder(ctx context.Context, req openapi.AdminRejectProductOrderRequestObject) (openapi.AdminRejectProductOrderResponseObject, error) {
	if req.Body == nil || req.Body.Reason == "" {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "reason: is required")
	}
	out, err := s.stepOrder(ctx, req.ProductOrderId, vippsmgmt.StepReject, nil, req.Body.Reason)
	return openapi.AdminRejectProductOrder200JSONResponse(out), err
}

func (s *Server) clockOut() openapi.AdminClock {
	return openapi.AdminClock{Now: s.clock.Now(), Offset: s.clock.Offset().String()}
}

func (s *Server) sandboxOnly() error {
	if !s.cfg.Sandbox {
		return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "The clock control exists only in sandbox mode (--sandbox).")
	}
	return nil
}

// AdminGetClock serves GET /admin/v1/clock.
func (s *Server) AdminGetClock(ctx context.Context, _ openapi.AdminGetClockRequestObject) (openapi.AdminGetClockResponseObject, error) {
	if err := s.sandboxOnly(); err != nil {
		return nil, err
	}
	if err := s.clock.Refresh(ctx, s.store); err != nil {
		return nil, err
	}
	return openapi.AdminGetClock200JSONResponse(s.clockOut()), nil
}

// AdminAdvanceClock serves POST /admin/v1/clock: moves the server's clock forward, for every
// process on the database.
func (s *Server) AdminAdvanceClock(ctx context.Context, req openapi.AdminAdvanceClockRequestObject) (openapi.AdminAdvanceClockResponseObject, error) {
	if err := s.sandboxOnly(); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "advance: is required")
	}
	d, err := time.ParseDuration(req.Body.Advance)
	if err != nil || d <= 0 || d > 100*365*24*time.Hour {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "advance: must be a positive duration such as 90m or 337h")
	}
	if _, err := s.clock.Advance(ctx, s.store, d); err != nil {
		return nil, err
	}
	return openapi.AdminAdvanceClock200JSONResponse(s.clockOut()), nil
}

// AdminListPartners serves GET /admin/v1/partners.
func (s *Server) AdminListPartners(ctx context.Context, _ openapi.AdminListPartnersRequestObject) (openapi.AdminListPartnersResponseObject, error) {
	ps, err := s.store.FindPartners(ctx)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListPartners200JSONResponse, 0, len(ps))
	for _, p := range ps {
		out = append(out, openapi.AdminPartner{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt})
	}
	return out, nil
}

// AdminCreatePartner serves POST /admin/v1/partners.
func (s *Server) AdminCreatePartner(ctx context.Context, req openapi.AdminCreatePartnerRequestObject) (openapi.AdminCreatePartnerResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	p := &vippsmgmt.Partner{ID: req.Body.PartnerId, Name: req.Body.Name}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpsertPartner(ctx, p); err != nil {
		return nil, err
	}
	p, err := s.store.FindPartnerByID(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return openapi.AdminCreatePartner201JSONResponse{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}, nil
}

// AdminListPartnerKeys serves GET /admin/v1/partners/{partnerId}/keys.
func (s *Server) AdminListPartnerKeys(ctx context.Context, req openapi.AdminListPartnerKeysRequestObject) (openapi.AdminListPartnerKeysResponseObject, error) {
	if _, err := s.store.FindPartnerByID(ctx, req.PartnerId); err != nil {
		return nil, err
	}
	keys, err := s.store.FindAPIKeys(ctx, req.PartnerId, "")
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListPartnerKeys200JSONResponse, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyOut(k))
	}
	return out, nil
}

// AdminCreatePartnerKeys serves POST /admin/v1/partners/{partnerId}/keys; the answer is the only
// place the secret is ever shown.
func (s *Server) AdminCreatePartnerKeys(ctx context.Context, req openapi.AdminCreatePartnerKeysRequestObject) (openapi.AdminCreatePartnerKeysResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "kind: is required")
	}
	clientID := ""
	if req.Body.ClientId != nil {
		clientID = *req.Body.ClientId
	}
	is, err := credentials.Issue(ctx, s.store, s.hasher, string(req.Body.Kind), req.PartnerId, "", clientID)
	if err != nil {
		return nil, err
	}
	return openapi.AdminCreatePartnerKeys201JSONResponse(issuedOut(is)), nil
}

// AdminCreateMerchantKeys serves POST /admin/v1/sales-units/{msn}/keys.
func (s *Server) AdminCreateMerchantKeys(ctx context.Context, req openapi.AdminCreateMerchantKeysRequestObject) (openapi.AdminCreateMerchantKeysResponseObject, error) {
	clientID := ""
	if req.Body != nil && req.Body.ClientId != nil {
		clientID = *req.Body.ClientId
	}
	is, err := credentials.Issue(ctx, s.store, s.hasher, vippsmgmt.KeyMerchant, "", req.Msn, clientID)
	if err != nil {
		return nil, err
	}
	return openapi.AdminCreateMerchantKeys201JSONResponse(issuedOut(is)), nil
}

// AdminRevokeKey serves POST /admin/v1/keys/{clientId}/revoke. This process forgets the key at
// once; other processes within their key-cache lifetime.
func (s *Server) AdminRevokeKey(ctx context.Context, req openapi.AdminRevokeKeyRequestObject) (openapi.AdminRevokeKeyResponseObject, error) {
	if err := s.store.RevokeAPIKey(ctx, req.ClientId); err != nil {
		return nil, err
	}
	s.auth.Forget(req.ClientId)
	k, err := s.store.FindAPIKeyByClientID(ctx, req.ClientId)
	if err != nil {
		return nil, err
	}
	return openapi.AdminRevokeKey200JSONResponse(keyOut(k)), nil
}

// AdminListPricePackages serves GET /admin/v1/partners/{partnerId}/price-packages.
func (s *Server) AdminListPricePackages(ctx context.Context, req openapi.AdminListPricePackagesRequestObject) (openapi.AdminListPricePackagesResponseObject, error) {
	if _, err := s.store.FindPartnerByID(ctx, req.PartnerId); err != nil {
		return nil, err
	}
	pkgs, err := s.store.FindPricePackages(ctx, req.PartnerId)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListPricePackages200JSONResponse, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, pricePackageOut(p))
	}
	return out, nil
}

// AdminCreatePricePackage serves POST /admin/v1/partners/{partnerId}/price-packages.
func (s *Server) AdminCreatePricePackage(ctx context.Context, req openapi.AdminCreatePricePackageRequestObject) (openapi.AdminCreatePricePackageResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	if _, err := s.store.FindPartnerByID(ctx, req.PartnerId); err != nil {
		return nil, err
	}
	b := req.Body
	p := &vippsmgmt.PricePackage{PartnerID: req.PartnerId, Name: b.Name, Description: b.Description,
		VisibleInSignupForm: b.VisibleInSignupForm, Commission: b.Commission}
	if b.PricePackageId != nil {
		p.ID = b.PricePackageId.String()
	} else {
		p.ID = uuid.NewString()
	}
	if b.ProductType != nil {
		t := string(*b.ProductType)
		p.ProductType = &t
	}
	if b.Market != nil {
		m := string(*b.Market)
		p.Market = &m
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpsertPricePackage(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminCreatePricePackage201JSONResponse(pricePackageOut(p)), nil
}

// AdminListMerchants serves GET /admin/v1/merchants.
func (s *Server) AdminListMerchants(ctx context.Context, req openapi.AdminListMerchantsRequestObject) (openapi.AdminListMerchantsResponseObject, error) {
	f := vippsmgmt.MerchantFilter{Limit: 500}
	if req.Params.Q != nil {
		f.Query = *req.Params.Q
	}
	ms, err := s.store.FindMerchants(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListMerchants200JSONResponse, 0, len(ms))
	for _, m := range ms {
		out = append(out, merchantOut(m))
	}
	return out, nil
}

// AdminCreateMerchant serves POST /admin/v1/merchants.
func (s *Server) AdminCreateMerchant(ctx context.Context, req openapi.AdminCreateMerchantRequestObject) (openapi.AdminCreateMerchantResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	b := req.Body
	m := &vippsmgmt.Merchant{
		BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: b.BusinessIdentifier.Scheme, ID: b.BusinessIdentifier.Id},
		Name:               b.Name, Status: vippsmgmt.MerchantActive,
	}
	m.CountryCode = m.BusinessIdentifier.CountryCode()
	if b.CountryCode != nil {
		m.CountryCode = *b.CountryCode
	}
	if b.Status != nil {
		m.Status = string(*b.Status)
	}
	if err := convertJSON(b.BusinessAddress, &m.BusinessAddress); err != nil {
		return nil, err
	}
	if err := convertJSON(b.BusinessPostAddress, &m.BusinessPostAddress); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpsertMerchant(ctx, m); err != nil {
		return nil, err
	}
	m, err := s.store.FindMerchant(ctx, m.BusinessIdentifier)
	if err != nil {
		return nil, err
	}
	return openapi.AdminCreateMerchant201JSONResponse(merchantOut(m)), nil
}

// AdminListSalesUnits serves GET /admin/v1/sales-units.
func (s *Server) AdminListSalesUnits(ctx context.Context, req openapi.AdminListSalesUnitsRequestObject) (openapi.AdminListSalesUnitsResponseObject, error) {
	f := vippsmgmt.SalesUnitFilter{PartnerID: req.Params.PartnerId, Limit: 500}
	if req.Params.Q != nil {
		f.Query = *req.Params.Q
	}
	units, err := s.store.FindSalesUnits(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListSalesUnits200JSONResponse, 0, len(units))
	for _, su := range units {
		out = append(out, s.adminSalesUnitOut(su))
	}
	return out, nil
}

// AdminGetSalesUnit serves GET /admin/v1/sales-units/{msn}.
func (s *Server) AdminGetSalesUnit(ctx context.Context, req openapi.AdminGetSalesUnitRequestObject) (openapi.AdminGetSalesUnitResponseObject, error) {
	su, err := s.store.FindSalesUnitByMSN(ctx, req.Msn)
	if err != nil {
		return nil, err
	}
	return openapi.AdminGetSalesUnit200JSONResponse(s.adminSalesUnitOut(su)), nil
}

// AdminCreateSalesUnit serves POST /admin/v1/sales-units.
func (s *Server) AdminCreateSalesUnit(ctx context.Context, req openapi.AdminCreateSalesUnitRequestObject) (openapi.AdminCreateSalesUnitResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	b := req.Body
	su := &vippsmgmt.SalesUnit{
		MSN: b.Msn, Name: b.Name, Status: vippsmgmt.SalesUnitActive, PartnerID: b.PartnerId,
		Merchant: vippsmgmt.BusinessIdentifier{Scheme: b.BusinessIdentifier.Scheme, ID: b.BusinessIdentifier.Id},
	}
	if b.Status != nil {
		su.Status = string(*b.Status)
	}
	if b.SettlementBankAccount != nil {
		su.SettlementBankAccount = &vippsmgmt.BankAccount{Scheme: b.SettlementBankAccount.Scheme, ID: b.SettlementBankAccount.Id}
	}
	if b.Configuration != nil {
		su.Configuration = new(vippsmgmt.Configuration)
		if err := convertJSON(b.Configuration, su.Configuration); err != nil {
			return nil, err
		}
	}
	if err := su.Validate(); err != nil {
		return nil, err
	}
	if existing, err := s.store.FindSalesUnitByMSN(ctx, su.MSN); err == nil && existing != nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.ECONFLICT, "MSN %s is already in use.", su.MSN)
	}
	if err := s.store.UpsertSalesUnit(ctx, su); err != nil {
		return nil, err
	}
	su, err := s.store.FindSalesUnitByMSN(ctx, su.MSN)
	if err != nil {
		return nil, err
	}
	return openapi.AdminCreateSalesUnit201JSONResponse(s.adminSalesUnitOut(su)), nil
}

// AdminUpdateSalesUnit serves PATCH /admin/v1/sales-units/{msn}.
func (s *Server) AdminUpdateSalesUnit(ctx context.Context, req openapi.AdminUpdateSalesUnitRequestObject) (openapi.AdminUpdateSalesUnitResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	b := req.Body
	var upd vippsmgmt.SalesUnitUpdate
	upd.Name = b.Name
	if b.Status != nil {
		st := string(*b.Status)
		upd.Status = &st
	}
	if b.Configuration != nil {
		upd.Configuration = new(vippsmgmt.Configuration)
		if err := convertJSON(b.Configuration, upd.Configuration); err != nil {
			return nil, err
		}
	}
	switch raw := bytes.TrimSpace(b.PartnerId); {
	case len(raw) == 0:
	case bytes.Equal(raw, []byte("null")):
		upd.ClearPartner = true
	default:
		var id string
		if err := json.Unmarshal(raw, &id); err != nil || id == "" {
			return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "partnerId: must be a partner id or null")
		}
		upd.PartnerID = &id
	}
	var fields []vippsmgmt.FieldError
	if upd.Name != nil && (len([]rune(*upd.Name)) < 1 || len([]rune(*upd.Name)) > 50) {
		fields = append(fields, vippsmgmt.FieldError{Field: "name", Problem: "must be 1 to 50 characters"})
	}
	fields = append(fields, upd.Configuration.Validate("configuration")...)
	if err := vippsmgmt.InvalidFields(fields); err != nil {
		return nil, err
	}
	su, err := s.store.UpdateSalesUnit(ctx, req.Msn, upd)
	if err != nil {
		return nil, err
	}
	return openapi.AdminUpdateSalesUnit200JSONResponse(s.adminSalesUnitOut(su)), nil
}

// AdminListNotifications serves GET /admin/v1/notifications.
func (s *Server) AdminListNotifications(ctx context.Context, _ openapi.AdminListNotificationsRequestObject) (openapi.AdminListNotificationsResponseObject, error) {
	ns, err := s.store.FindNotifications(ctx, 500)
	if err != nil {
		return nil, err
	}
	out := make(openapi.AdminListNotifications200JSONResponse, 0, len(ns))
	for _, n := range ns {
		w := openapi.AdminNotification{
			Id: n.ID, ProductOrderId: uuid.MustParse(n.OrderID), Recipient: openapi.AdminNotificationRecipient(n.Recipient),
			RecipientName: n.RecipientName, Subject: n.Subject, Body: n.Body, CreatedAt: n.CreatedAt, SentAt: n.SentAt,
		}
		if n.LastError != "" {
			w.LastError = &n.LastError
		}
		out = append(out, w)
	}
	return out, nil
}

// AdminListRequests serves GET /admin/v1/requests: the request log.
func (s *Server) AdminListRequests(ctx context.Context, _ openapi.AdminListRequestsRequestObject) (openapi.AdminListRequestsResponseObject, error) {
	recs := s.requests.Last(500)
	out := make(openapi.AdminListRequests200JSONResponse, 0, len(recs))
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, r := range recs {
		out = append(out, openapi.AdminRequest{
			Time: r.Time, RequestId: r.RequestID, Caller: r.Caller, Method: r.Method, Route: r.Route, Status: r.Status,
			LatencyMs: r.LatencyMs, SystemName: opt(r.SystemName), SystemVersion: opt(r.SystemVersion),
			PluginName: opt(r.PluginName), PluginVersion: opt(r.PluginVersion),
		})
	}
	return out, nil
}
