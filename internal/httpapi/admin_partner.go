package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// AdminListPartners serves GET /admin/v1/partners.
func (s *Server) AdminListPartners(ctx context.Context, req openapi.AdminListPartnersRequestObject) (openapi.AdminListPartnersResponseObject, error) {
	page, err := vippsmgmt.PartnerList.ParsePage(req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	ps, err := s.store.FindPartners(ctx, vippsmgmt.PartnerFilter{Limit: page.Fetch().Limit, After: page.After})
	if err != nil {
		return nil, err
	}
	ps, next := vippsmgmt.PartnerList.Cut(page, ps)
	out := openapi.AdminListPartners200JSONResponse{Body: make([]openapi.AdminPartner, 0, len(ps))}
	out.Headers.VippsmgmtNextCursor = nextCursor(next)
	for _, p := range ps {
		out.Body = append(out.Body, openapi.AdminPartner{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt})
	}
	return out, nil
}

// AdminCreatePartner serves POST /admin/v1/partners.
func (s *Server) AdminCreatePartner(ctx context.Context, req openapi.AdminCreatePartnerRequestObject) (openapi.AdminCreatePartnerResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "The request body is required.")
	}
	p := &vippsmgmt.Partner{ID: req.Body.PartnerId, Name: req.Body.Name}
	if err := s.store.CreatePartner(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminCreatePartner201JSONResponse{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}, nil
}
