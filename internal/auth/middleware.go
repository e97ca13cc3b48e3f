package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// maxTokenLen refuses absurd Authorization headers before any parsing; ours are under 1 KB.
const maxTokenLen = 8 << 10

// verifiedToken is what a successful verification leaves in the token cache.
type verifiedToken struct {
	claims *Claims
	nbf    time.Time
}

// keyInfo is what a request needs to know about a key set, cached for keyInfoTTL.
type keyInfo struct {
	missing   bool // the client id no longer exists
	kind      string
	partnerID string
	msn       string
	merchant  vippsmgmt.BusinessIdentifier
	subHash   []byte
	revoked   bool
	// verifiedSub is the subscription key last seen to hash to subHash, so that the requests
	// of this key set while the entry is cached compare strings rather than compute an HMAC.
	verifiedSub atomic.Pointer[string]
	label       string // the caller's vippsmgmt.Caller.Label
}

// subscriptionKeyMatches reports whether sub is the key set's subscription key.
func (ki *keyInfo) subscriptionKeyMatches(h *Hasher, sub string) bool {
	if v := ki.verifiedSub.Load(); v != nil && constantTimeEqual(*v, sub) {
		return true
	}
	if !h.Equal(ki.subHash, sub) {
		return false
	}
	verified := new(string)
	*verified = sub
	ki.verifiedSub.Store(verified)
	return true
}

// constantTimeEqual compares two strings in time that depends only on their lengths, as
// subtle.ConstantTimeCompare does, without converting them to byte slices.
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff byte
	for i := 0; i < len(a); i++ {
		diff |= a[i] ^ b[i]
	}
	return diff == 0
}

// authError is a 401 with a detail safe to show the caller.
type authError struct{ detail string }

func (e *authError) Error() string { return e.detail }

func unauthorized(detail string) error { return &authError{detail} }

// Middleware authenticates Management API requests. It accepts a classic token together with the
// subscription key of the key set that obtained it, or a management token alone, and puts the
// vippsmgmt.Caller in the request context. Anything else is a 401 problem with
// WWW-Authenticate: Bearer. Role checks (403) are the handlers' business.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.Authenticate(r)
		if err != nil {
			var ae *authError
			if errors.As(err, &ae) {
				writeUnauthorized(w, r, ae.detail)
				return
			}
			problem.Error(w, r, err)
			return
		}
		if ctx := vippsmgmt.WithCaller(r.Context(), caller); ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

func writeUnauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	problem.Write(w, problem.New(r.Context(), http.StatusUnauthorized, "unauthorized", "Not authorized", detail))
}

// Authenticate returns the caller of a Management API request. Its error is a 401 with a safe
// message (IsUnauthorized) or, when the store fails, an internal error.
func (s *Service) Authenticate(r *http.Request) (vippsmgmt.Caller, error) {
	auth, err := singleHeader(r.Header, "Authorization")
	if err != nil {
		return vippsmgmt.Caller{}, err
	}
	raw, err := bearerToken(auth)
	if err != nil {
		return vippsmgmt.Caller{}, err
	}
	now := s.clock.Now() // read once: the token's times and the key cache's lifetimes
	claims, err := s.verify(raw, now)
	if err != nil {
		return vippsmgmt.Caller{}, err
	}
	info, err := s.keyInfo(r.Context(), claims.Subject, now)
	if err != nil {
		return vippsmgmt.Caller{}, err
	}
	switch {
	case info.missing:
		return vippsmgmt.Caller{}, unauthorized("The API keys this access token was issued to no longer exist.")
	case info.revoked:
		return vippsmgmt.Caller{}, unauthorized("The API keys this access token was issued to have been revoked.")
	case info.kind != claims.Kind || info.partnerID != claims.PartnerID || info.msn != claims.MSN:
		// The key set was re-registered under another owner since the token was issued.
		return vippsmgmt.Caller{}, unauthorized("The API keys this access token was issued to have changed; fetch a new token.")
	}
	if claims.Flow == FlowClassic {
		sub, err := singleHeader(r.Header, "Ocp-Apim-Subscription-Key")
		if err != nil {
			return vippsmgmt.Caller{}, err
		}
		if sub == "" {
			return vippsmgmt.Caller{}, unauthorized("An access token from /accesstoken/get must be sent with the Ocp-Apim-Subscription-Key of the same API keys.")
		}
		if !info.subscriptionKeyMatches(s.hasher, sub) {
			return vippsmgmt.Caller{}, unauthorized("The Ocp-Apim-Subscription-Key does not belong to the API keys the access token was issued to.")
		}
	}
	return vippsmgmt.Caller{
		ClientID:  claims.Subject,
		Kind:      info.kind,
		PartnerID: info.partnerID,
		MSN:       info.msn,
		Merchant:  info.merchant,
		Label:     info.label,
	}, nil
}

// header returns the first value of a header by its canonical name, without canonicalising it
// again as http.Header.Get does.
func header(h http.Header, canonicalName string) string {
	if v := h[canonicalName]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// singleHeader is header for a credential header, refusing it when given more than once.
func singleHeader(h http.Header, canonicalName string) (string, error) {
	if len(h[canonicalName]) > 1 {
		return "", unauthorized(repeatedHeaderProblem(canonicalName))
	}
	return header(h, canonicalName), nil
}

// repeatedHeader is the problem with the first of the credential headers names given more than
// once, or "": which of two values counts would be a guess, and a proxy in front may guess
// otherwise.
func repeatedHeader(h http.Header, names ...string) string {
	for _, name := range names {
		if len(h.Values(name)) > 1 {
			return repeatedHeaderProblem(name)
		}
	}
	return ""
}

func repeatedHeaderProblem(name string) string {
	return fmt.Sprintf("The %s header is given more than once; send it once.", name)
}

// IsUnauthorized reports whether err from Authenticate means 401 (rather than a store failure).
func IsUnauthorized(err error) bool {
	var ae *authError
	return errors.As(err, &ae)
}

// bearerToken extracts the token of an Authorization header. The scheme is matched
// case-sensitively: production refuses "bearer", and a twin that accepted it would hide the bug.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", unauthorized("The Authorization header is missing; send Authorization: Bearer <access token>.")
	}
	scheme, tok, _ := strings.Cut(h, " ")
	switch {
	case scheme == "Bearer":
	case strings.EqualFold(scheme, "Bearer"):
		return "", unauthorized(fmt.Sprintf("The Authorization scheme must be written \"Bearer\"; %q is refused, as in production.", scheme))
	default:
		return "", unauthorized("The Authorization header must hold a Bearer access token.")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", unauthorized("The Authorization header holds no access token after \"Bearer\".")
	}
	return tok, nil
}

// verify checks the token's signature and claims, remembering successes for the token's remaining
// lifetime so repeated use of a token skips the RSA work. Only tokens that verified are cached, so
// a forged token is never served from the cache; times are checked again on every hit.
func (s *Service) verify(raw string, now time.Time) (*Claims, error) {
	if v, ok := s.tokens.get(raw, now); ok {
		if now.Before(v.nbf) {
			return nil, unauthorized("The access token is not valid yet.")
		}
		return v.claims, nil
	}
	if len(raw) > maxTokenLen {
		return nil, unauthorized("The access token is malformed.")
	}
	claims := &Claims{}
	_, err := s.parser.ParseWithClaims(raw, claims, s.keyFunc)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, unauthorized("The access token has expired; fetch a new one.")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, unauthorized("The access token is not valid yet.")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, unauthorized("The access token is malformed.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, unauthorized("The access token's signature is not valid.")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, unauthorized("The access token was not issued by this server.")
	default:
		return nil, unauthorized("The access token is not valid.")
	}
	var nbf time.Time
	if claims.NotBefore != nil {
		nbf = claims.NotBefore.Time
	}
	s.tokens.put(raw, verifiedToken{claims: claims, nbf: nbf}, claims.ExpiresAt.Time, now)
	return claims, nil
}

// keyFunc accepts the active key only; the parser has already required RS256.
func (s *Service) keyFunc(t *jwt.Token) (any, error) {
	key, err := s.signingKey(context.Background())
	if err != nil {
		return nil, err
	}
	if kid, _ := t.Header["kid"].(string); kid != key.kid {
		return nil, errors.New("unknown kid")
	}
	return &key.priv.PublicKey, nil
}

// keyInfo returns what the request needs about clientID's key set, from the cache when fresh.
// Concurrent misses for one client id share a single store round trip.
func (s *Service) keyInfo(ctx context.Context, clientID string, now time.Time) (*keyInfo, error) {
	if ki, ok := s.keys.get(clientID, now); ok {
		return ki, nil
	}
	v, err, _ := s.lookups.Do(clientID, func() (any, error) {
		// The lookup outlives no single caller's cancellation: several requests may wait on it.
		ki, err := s.loadKeyInfo(context.WithoutCancel(ctx), clientID)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now()
		s.keys.put(clientID, ki, now.Add(keyInfoTTL), now)
		return ki, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*keyInfo), nil
}

func (s *Service) loadKeyInfo(ctx context.Context, clientID string) (*keyInfo, error) {
	k, err := s.store.FindAPIKeyByClientID(ctx, clientID)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return &keyInfo{missing: true}, nil
	} else if err != nil {
		return nil, fmt.Errorf("auth: find key set: %w", err)
	}
	ki := &keyInfo{kind: k.Kind, subHash: k.SubscriptionKeyHash, revoked: k.Revoked, label: k.Kind + ":" + clientID}
	if k.PartnerID != nil {
		ki.partnerID = *k.PartnerID
	}
	if k.MSN != nil {
		ki.msn = *k.MSN
		su, err := s.store.FindSalesUnitByMSN(ctx, ki.msn)
		if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
			// A merchant key without its sales unit cannot name an organisation to act for.
			return &keyInfo{missing: true}, nil
		} else if err != nil {
			return nil, fmt.Errorf("auth: find sales unit of key set: %w", err)
		}
		ki.merchant = su.Merchant
	}
	return ki, nil
}
