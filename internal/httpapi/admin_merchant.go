package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// AdminListMerchants serves GET /admin/v1/merchants.
func (s *Server) AdminListMerchants(ctx context.Context, req openapi.AdminListMerchantsRequestObject) (openapi.AdminListMerchantsResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.Merchant, error) {
		return s.store.FindMerchants(ctx, vippsmgmt.MerchantFilter{Query: deref(req.Params.Q), Limit: p.Limit, After: p.After})
	}
	body, next, err := listPage(vippsmgmt.MerchantList, req.Params.Limit, req.Params.Cursor, find, infallible(merchantOut))
	return openapi.AdminListMerchants200JSONResponse{Body: body, Headers: openapi.AdminListMerchants200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

// AdminCreateMerchant serves POST /admin/v1/merchants.
func (s *Server) AdminCreateMerchant(ctx context.Context, req openapi.AdminCreateMerchantRequestObject) (openapi.AdminCreateMerchantResponseObject, error) {
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
	if err := s.store.CreateMerchant(ctx, m); err != nil {
		return nil, err
	}
	return openapi.AdminCreateMerchant201JSONResponse(merchantOut(m)), nil
}
