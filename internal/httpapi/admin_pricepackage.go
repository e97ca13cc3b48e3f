package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// AdminListPricePackages serves GET /admin/v1/partners/{partnerId}/price-packages.
func (s *Server) AdminListPricePackages(ctx context.Context, req openapi.AdminListPricePackagesRequestObject) (openapi.AdminListPricePackagesResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.PricePackage, error) {
		if _, err := s.store.FindPartnerByID(ctx, req.PartnerId); err != nil {
			return nil, err
		}
		return s.store.FindPricePackages(ctx, vippsmgmt.PricePackageFilter{PartnerID: req.PartnerId, Limit: p.Limit, After: p.After})
	}
	body, next, err := listPage(vippsmgmt.PricePackageList, req.Params.Limit, req.Params.Cursor, find, infallible(pricePackageOut))
	return openapi.AdminListPricePackages200JSONResponse{Body: body, Headers: openapi.AdminListPricePackages200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

// AdminCreatePricePackage serves POST /admin/v1/partners/{partnerId}/price-packages.
func (s *Server) AdminCreatePricePackage(ctx context.Context, req openapi.AdminCreatePricePackageRequestObject) (openapi.AdminCreatePricePackageResponseObject, error) {
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
	if err := s.store.CreatePricePackage(ctx, p); err != nil {
		return nil, err
	}
	return openapi.AdminCreatePricePackage201JSONResponse(pricePackageOut(p)), nil
}
