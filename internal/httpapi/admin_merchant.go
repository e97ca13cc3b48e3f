package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// AdminListMerchants serves GET /admin/v1/merchants.
func (s *Server) AdminListMerchants(ctx context.Context, req openapi.AdminListMerchantsRequestObject) (openapi.AdminListMerchantsResponseObject, error) {
	p, err := vippsmgmt.MerchantList.ParsePage(req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := vippsmgmt.MerchantFilter{Limit: p.Fetch().Limit, After: p.After}
	if req.Params.Q != nil {
		f.Query = *req.Params.Q
	}
	ms, err := s.store.FindMerchants(ctx, f)
	if err != nil {
		return nil, err
	}
	ms, next := vippsmgmt.MerchantList.Cut(p, ms)
	out := openapi.AdminListMerchants200JSONResponse{Body: make([]openapi.Merchant, 0, len(ms))}
	out.Headers.VippsmgmtNextCursor = nextCursor(next)
	for _, m := range ms {
		out.Body = append(out.Body, merchantOut(m))
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
	if err := s.store.CreateMerchant(ctx, m); err != nil {
		return nil, err
	}
	return openapi.AdminCreateMerchant201JSONResponse(merchantOut(m)), nil
}
