package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// AdminListPartners serves GET /admin/v1/partners.
func (s *Server) AdminListPartners(ctx context.Context, req openapi.AdminListPartnersRequestObject) (openapi.AdminListPartnersResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.Partner, error) {
		return s.store.FindPartners(ctx, vippsmgmt.PartnerFilter{Limit: p.Limit, After: p.After})
	}
	body, next, err := listPage(vippsmgmt.PartnerList, req.Params.Limit, req.Params.Cursor, find, infallible(partnerOut))
	return openapi.AdminListPartners200JSONResponse{Body: body, Headers: openapi.AdminListPartners200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

func partnerOut(p *vippsmgmt.Partner) openapi.AdminPartner {
	return openapi.AdminPartner{PartnerId: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}
}

// AdminCreatePartner serves POST /admin/v1/partners.
func (s *Server) AdminCreatePartner(ctx context.Context, req openapi.AdminCreatePartnerRequestObject) (openapi.AdminCreatePartnerResponseObject, error) {
	b := req.Body
	p := &vippsmgmt.Partner{ID: b.PartnerId, Name: b.Name}
	if err := s.store.CreatePartner(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminCreatePartner201JSONResponse(partnerOut(p)), nil
}
