package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// Defaults of Config.
const (
	DefaultIssuer     = "vippsmgmt"
	DefaultClassicTTL = 24 * time.Hour // production; 1 h mimics the test environment
	DefaultRate       = rate.Limit(10) // tokens per second per client id
	DefaultBurst      = 60
)

// ManagementTTL is the lifetime of a /miami/v1/token token, 15 minutes in every environment.
const ManagementTTL = 15 * time.Minute

// notBeforeSkew is how far before its issue time a classic token becomes valid. The published
// examples of /accesstoken/get put not_before about five minutes before issue, a clock-skew
// allowance, and the JWT's nbf says the same.
const notBeforeSkew = 300 * time.Second

// Token flows, recorded in the flow claim.
const (
	FlowClassic    = "classic"    // POST /accesstoken/get
	FlowManagement = "management" // POST /miami/v1/token
)

// Bounds and lifetimes of the verification caches.
const (
	maxCachedTokens = 20000 // about 1 KB each
	maxCachedKeys   = 10000
	// keyInfoTTL bounds how long a revocation made by another process goes unnoticed.
	keyInfoTTL = 2 * time.Second
)

// KeyStore is the part of vippsmgmt.Store the service needs.
type KeyStore interface {
	// FindAPIKeyByClientID returns ENOTFOUND for an unknown client id (revoked keys are returned).
	FindAPIKeyByClientID(ctx context.Context, clientID string) (*vippsmgmt.APIKey, error)
	// FindAPIKeyBySubscriptionKeyHash returns ENOTFOUND when no key set has that subscription key.
	FindAPIKeyBySubscriptionKeyHash(ctx context.Context, hash []byte) (*vippsmgmt.APIKey, error)
	// FindSalesUnitByMSN returns ENOTFOUND if unknown.
	FindSalesUnitByMSN(ctx context.Context, msn string) (*vippsmgmt.SalesUnit, error)
	// Setting returns ENOTFOUND if unset.
	Setting(ctx context.Context, name string) (string, error)
	EnsureSetting(ctx context.Context, name, candidate string) (string, error)
}

// Config tunes the service; zero fields take the defaults above.
type Config struct {
	// Issuer is the iss claim written and required.
	Issuer string
	// ClassicTTL is the lifetime of /accesstoken/get tokens.
	ClassicTTL time.Duration
	// Rate and Burst shape the token endpoints' buckets: one per client id, charged only for
	// requests with right credentials, and one per remote address, charged for refused ones.
	// rate.Inf disables both.
	Rate  rate.Limit
	Burst int
	// SigningKeyPEM, when set, is an RSA private key (PKCS#1 or PKCS#8 PEM) used instead of the
	// key stored in the database.
	SigningKeyPEM []byte
}

// Service issues tokens and authenticates requests.
type Service struct {
	store      KeyStore
	clock      vippsmgmt.Clock
	hasher     *Hasher
	issuer     string
	classicTTL time.Duration
	key        *lazyKey
	parser     *jwt.Parser
	limiters   *limiterSet // per client id, charged for right credentials only
	failures   *limiterSet // per remote address, charged for every refused token request
	tokens     *ttlCache[verifiedToken]
	keys       *ttlCache[*keyInfo]
	lookups    singleflight.Group
}

// Authenticator is the name the Management API's wiring uses for the service's request side.
type Authenticator = Service

// New loads (or creates) the signing key and returns the service.
func New(ctx context.Context, store KeyStore, clock vippsmgmt.Clock, hasher *Hasher, cfg Config) (*Service, error) {
	if store == nil || clock == nil || hasher == nil {
		return nil, errors.New("auth: store, clock and hasher are required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.ClassicTTL == 0 {
		cfg.ClassicTTL = DefaultClassicTTL
	}
	if cfg.ClassicTTL < time.Second {
		return nil, fmt.Errorf("auth: classic token lifetime %v is too short", cfg.ClassicTTL)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	key, err := loadSigningKey(ctx, store, cfg.SigningKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s := &Service{
		store:      store,
		clock:      clock,
		hasher:     hasher,
		issuer:     cfg.Issuer,
		classicTTL: cfg.ClassicTTL,
		key:        key,
		limiters:   newLimiterSet(cfg.Rate, cfg.Burst),
		failures:   newLimiterSet(cfg.Rate, cfg.Burst),
		tokens:     newTTLCache[verifiedToken](maxCachedTokens),
		keys:       newTTLCache[*keyInfo](maxCachedKeys),
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(clock.Now),
	)
	return s, nil
}

// Routes registers the Access Token API and the JWKS on mux.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /accesstoken/get", s.handleAccessToken)
	// Older quick starts and the Postman collection spell it with a capital T.
	mux.HandleFunc("POST /accessToken/get", s.handleAccessToken)
	mux.HandleFunc("POST /miami/v1/token", s.handleMiamiToken)
	mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
}

// handleJWKS serves GET /.well-known/jwks.json.
func (s *Service) handleJWKS(w http.ResponseWriter, r *http.Request) {
	k, err := s.signingKey(r.Context())
	if err != nil {
		problem.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(k.jwks)
}

// signingKey returns the active key, waiting while it is being generated.
func (s *Service) signingKey(ctx context.Context) (*signingKey, error) {
	ctx, cancel := context.WithTimeout(ctx, keyGenerationTimeout)
	defer cancel()
	k, err := s.key.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return k, nil
}

// PrepareSigningKey starts generating the signing key in the background when the database has
// none yet, so that the first token request finds it ready or nearly so.
func (s *Service) PrepareSigningKey() { s.key.prepare() }

// KeyID returns the kid of the active signing key ("" while it cannot be had).
func (s *Service) KeyID() string {
	k, err := s.signingKey(context.Background())
	if err != nil {
		return ""
	}
	return k.kid
}

// Forget drops what the service caches about clientID's key set, so a revocation made by this
// process takes effect on the next request rather than within keyInfoTTL.
func (s *Service) Forget(clientID string) { s.keys.delete(clientID) }

// Claims are the claims of every token this service issues.
type Claims struct {
	jwt.RegisteredClaims
	// Kind is the key kind: partner, merchant or management.
	Kind string `json:"key_kind"`
	// PartnerID is set for partner and management keys.
	PartnerID string `json:"partner_id,omitempty"`
	// MSN is set for merchant keys.
	MSN string `json:"msn,omitempty"`
	// Flow is classic or management.
	Flow string `json:"flow"`
}

// Validate checks that the claims describe a caller this service could have issued a token to;
// jwt calls it after the registered claims pass.
func (c *Claims) Validate() error {
	if c.Subject == "" || c.ID == "" {
		return errors.New("sub and jti are required")
	}
	switch {
	case c.Flow == FlowClassic && c.Kind == vippsmgmt.KeyPartner && c.PartnerID != "" && c.MSN == "":
	case c.Flow == FlowClassic && c.Kind == vippsmgmt.KeyMerchant && c.MSN != "" && c.PartnerID == "":
	case c.Flow == FlowManagement && c.Kind == vippsmgmt.KeyManagement && c.PartnerID != "" && c.MSN == "":
	default:
		return errors.New("flow, key kind and owner do not fit together")
	}
	return nil
}

// Token is an issued access token with its times.
type Token struct {
	AccessToken string
	IssuedAt    time.Time
	NotBefore   time.Time
	ExpiresAt   time.Time
}

// IssueClassic signs a /accesstoken/get token for a partner or merchant key set.
func (s *Service) IssueClassic(k *vippsmgmt.APIKey) (Token, error) {
	if k.Kind != vippsmgmt.KeyPartner && k.Kind != vippsmgmt.KeyMerchant {
		return Token{}, fmt.Errorf("auth: %s keys cannot get a classic token", k.Kind)
	}
	now := s.clock.Now()
	return s.issue(k, FlowClassic, now.Add(-notBeforeSkew), now, s.classicTTL)
}

// IssueManagement signs a /miami/v1/token token for a management key set.
func (s *Service) IssueManagement(k *vippsmgmt.APIKey) (Token, error) {
	if k.Kind != vippsmgmt.KeyManagement {
		return Token{}, fmt.Errorf("auth: %s keys cannot get a management token", k.Kind)
	}
	now := s.clock.Now()
	return s.issue(k, FlowManagement, now, now, ManagementTTL)
}

func (s *Service) issue(k *vippsmgmt.APIKey, flow string, nbf, now time.Time, ttl time.Duration) (Token, error) {
	// JWT times have whole-second precision; truncating keeps the response fields and the
	// claims identical.
	now = now.Truncate(time.Second)
	nbf = nbf.Truncate(time.Second)
	exp := now.Add(ttl)
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   k.ClientID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(nbf),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        uuid.NewString(),
		},
		Kind: k.Kind,
		Flow: flow,
	}
	if k.PartnerID != nil {
		c.PartnerID = *k.PartnerID
	}
	if k.MSN != nil {
		c.MSN = *k.MSN
	}
	if err := c.Validate(); err != nil {
		return Token{}, fmt.Errorf("auth: key set %q: %w", k.ClientID, err)
	}
	key, err := s.signingKey(context.Background())
	if err != nil {
		return Token{}, err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = key.kid
	signed, err := t.SignedString(key.priv)
	if err != nil {
		return Token{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return Token{AccessToken: signed, IssuedAt: now, NotBefore: nbf, ExpiresAt: exp}, nil
}
