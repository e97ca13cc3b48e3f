package httpapi

import (
	"context"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

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

// AdminListPartnerKeys serves GET /admin/v1/partners/{partnerId}/keys.
func (s *Server) AdminListPartnerKeys(ctx context.Context, req openapi.AdminListPartnerKeysRequestObject) (openapi.AdminListPartnerKeysResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.APIKey, error) {
		if _, err := s.store.FindPartnerByID(ctx, req.PartnerId); err != nil {
			return nil, err
		}
		return s.store.FindAPIKeys(ctx, req.PartnerId, "", p)
	}
	body, next, err := listPage(vippsmgmt.APIKeyList, req.Params.Limit, req.Params.Cursor, find, infallible(keyOut))
	return openapi.AdminListPartnerKeys200JSONResponse{Body: body, Headers: openapi.AdminListPartnerKeys200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

// AdminCreatePartnerKeys serves POST /admin/v1/partners/{partnerId}/keys; the answer is the only
// place the secret is ever shown.
func (s *Server) AdminCreatePartnerKeys(ctx context.Context, req openapi.AdminCreatePartnerKeysRequestObject) (openapi.AdminCreatePartnerKeysResponseObject, error) {
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "kind: is required")
	}
	is, err := credentials.Issue(ctx, s.store, s.hasher, string(req.Body.Kind), req.PartnerId, "", deref(req.Body.ClientId))
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
