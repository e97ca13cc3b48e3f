package httpapi

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

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

// AdminListSalesUnits serves GET /admin/v1/sales-units.
func (s *Server) AdminListSalesUnits(ctx context.Context, req openapi.AdminListSalesUnitsRequestObject) (openapi.AdminListSalesUnitsResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.SalesUnit, error) {
		return s.store.FindSalesUnits(ctx, vippsmgmt.SalesUnitFilter{
			PartnerID: req.Params.PartnerId, Query: deref(req.Params.Q), Limit: p.Limit, After: p.After,
		})
	}
	body, next, err := listPage(vippsmgmt.SalesUnitList, req.Params.Limit, req.Params.Cursor, find, infallible(s.adminSalesUnitOut))
	return openapi.AdminListSalesUnits200JSONResponse{Body: body, Headers: openapi.AdminListSalesUnits200ResponseHeaders{VippsmgmtNextCursor: next}}, err
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
	su.Configuration = configurationIn(b.Configuration)
	if err := s.store.CreateSalesUnit(ctx, su); err != nil {
		return nil, err
	}
	return openapi.AdminCreateSalesUnit201JSONResponse(s.adminSalesUnitOut(su)), nil
}

// AdminUpdateSalesUnit serves PATCH /admin/v1/sales-units/{msn}.
func (s *Server) AdminUpdateSalesUnit(ctx context.Context, req openapi.AdminUpdateSalesUnitRequestObject) (openapi.AdminUpdateSalesUnitResponseObject, error) {
	b := req.Body
	upd := vippsmgmt.SalesUnitUpdate{Name: b.Name, Configuration: configurationIn(b.Configuration)}
	if b.Status != nil {
		st := string(*b.Status)
		upd.Status = &st
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
	su, err := s.store.UpdateSalesUnit(ctx, req.Msn, upd)
	if err != nil {
		return nil, err
	}
	return openapi.AdminUpdateSalesUnit200JSONResponse(s.adminSalesUnitOut(su)), nil
}
