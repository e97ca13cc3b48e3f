package httpapi

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

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

// AdminListProductOrders serves GET /admin/v1/product-orders.
func (s *Server) AdminListProductOrders(ctx context.Context, req openapi.AdminListProductOrdersRequestObject) (openapi.AdminListProductOrdersResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.ProductOrder, error) {
		f := vippsmgmt.ProductOrderFilter{IncludeExpired: true, PartnerID: req.Params.PartnerId, Limit: p.Limit, After: p.After}
		if req.Params.Status != nil {
			f.Statuses = []string{string(*req.Params.Status)}
		}
		return s.store.FindProductOrders(ctx, f)
	}
	body, next, err := listPage(vippsmgmt.ProductOrderList, req.Params.Limit, req.Params.Cursor, find, s.adminOrderOut)
	return openapi.AdminListProductOrders200JSONResponse{Body: body, Headers: openapi.AdminListProductOrders200ResponseHeaders{VippsmgmtNextCursor: next}}, err
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
	out, err := s.stepOrder(ctx, req.ProductOrderId, vippsmgmt.StepReject, nil, req.Body.Reason)
	return openapi.AdminRejectProductOrder200JSONResponse(out), err
}
