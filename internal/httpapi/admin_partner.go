package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

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
	if err := s.store.CreatePartner(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminCreatePartner201JSONResponse{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}, nil
}
