package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// Wire constants of the Access Token API.
const (
	tokenContentType = "application/json;charset=UTF-8"
	// resourceID is the constant "resource" of /accesstoken/get; clients ignore it.
	resourceID = "00000002-0000-0000-c000-000000000000"
	// maxFormBytes bounds the /miami/v1/token body, which is one short form field.
	maxFormBytes = 16 << 10
)

// Gateway messages for a missing or unknown subscription key, as the real API gateway words them.
const (
	msgMissingSubscriptionKey = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidSubscriptionKey = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

// Error codes of the identity provider's answers, in the numbering clients of the real API have
// learnt to recognise.
const (
	codeMissingParameter = 900144  // a required header is absent
	codeInvalidParameter = 90014   // a header breaks its format
	codeUnknownClient    = 700016  // no key set with that client id
	codeBadCredentials   = 70002   // keys of the wrong kind or another key set's subscription key
	codeBadSecret        = 7000215 // wrong client secret
	codeRevoked          = 7000222 // key set revoked
	codeServerError      = 90033   // store unavailable
)

var (
	msnHeaderRE       = regexp.MustCompile(`^[0-9]{4,10}$`)
	guidRE            = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	credentialHeaders = []string{"client_id", "client_secret", "Ocp-Apim-Subscription-Key"}
	systemHeaders     = []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"}
	maxSystemHeader   = 30
)

// AuthorizationTokenResponse is the 200 body of /accesstoken/get. Every value is a string, the
// numeric ones included, as the real API sends them.
type AuthorizationTokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// TokenResponse is the 200 body of /miami/v1/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// GatewayError is the API gateway's error body (missing/unknown subscription key, rate limit).
type GatewayError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// IdentityError is the identity provider's error body on /accesstoken/get.
type IdentityError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
}

// OAuthError is the RFC 6749 section 5.2 error body of /miami/v1/token.
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// handleAccessToken serves POST /accesstoken/get (and /accessToken/get): the standard flow for
// partner and merchant keys. Checks run in the order of the real stack: the gateway (rate limit,
// subscription key), then the identity provider (headers, client, secret). The body is ignored.
func (s *Service) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.clock.Now()
	clientID := r.Header.Get("client_id")
	secret := r.Header.Get("client_secret")
	tooMany := func(wait time.Duration) {
		secs := retryAfterSeconds(wait)
		w.Header().Set("Retry-After", secs)
		writeJSON(w, http.StatusTooManyRequests, GatewayError{
			StatusCode: http.StatusTooManyRequests,
			Message:    "Rate limit is exceeded. Try again in " + secs + " seconds.",
		})
	}
	// Every refusal below counts against the caller's address; past its budget the address gets
	// 429 instead of the reason. The client id's own bucket is charged only once the credentials
	// are right, so no one can spend another's allowance by naming their client id.
	refuse := func(answer func()) {
		if ok, wait := s.failures.allow(remoteKey(r), now); !ok {
			tooMany(wait)
			return
		}
		answer()
	}

	idErr := func(status int, code string, num int, desc string) {
		refuse(func() { s.writeIdentityError(w, r, now, status, code, num, desc) })
	}
	if msg := repeatedHeader(r.Header, credentialHeaders...); msg != "" {
		idErr(http.StatusBadRequest, "invalid_request", codeInvalidParameter, msg)
		return
	}

	sub := r.Header.Get("Ocp-Apim-Subscription-Key")
	if sub == "" {
		refuse(func() {
			writeJSON(w, http.StatusUnauthorized, GatewayError{http.StatusUnauthorized, msgMissingSubscriptionKey})
		})
		return
	}
	subHash := s.hasher.Hash(sub)
	if _, err := s.store.FindAPIKeyBySubscriptionKeyHash(ctx, subHash); vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		refuse(func() {
			writeJSON(w, http.StatusUnauthorized, GatewayError{http.StatusUnauthorized, msgInvalidSubscriptionKey})
		})
		return
	} else if err != nil {
		s.identityServerError(w, r, now, err)
		return
	}

	if v := r.Header.Get("Merchant-Serial-Number"); v != "" && !msnHeaderRE.MatchString(v) {
		idErr(http.StatusBadRequest, "invalid_request", codeInvalidParameter, "The Merchant-Serial-Number header must be 4 to 10 digits.")
		return
	}
	for _, h := range systemHeaders {
		if len([]rune(r.Header.Get(h))) > maxSystemHeader {
			idErr(http.StatusBadRequest, "invalid_request", codeInvalidParameter, fmt.Sprintf("The %s header must be at most %d characters.", h, maxSystemHeader))
			return
		}
	}
	switch {
	case clientID == "":
		idErr(http.StatusBadRequest, "invalid_request", codeMissingParameter, "The request lacks the required header 'client_id'.")
		return
	case secret == "":
		idErr(http.StatusBadRequest, "invalid_request", codeMissingParameter, "The request lacks the required header 'client_secret'.")
		return
	}

	key, err := s.findClient(ctx, clientID)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		idErr(http.StatusBadRequest, "unauthorized_client", codeUnknownClient,
			fmt.Sprintf("No application with client id %s is registered here. Check the client_id and that the keys belong to this environment.", quoteClientID(clientID)))
		return
	} else if err != nil {
		s.identityServerError(w, r, now, err)
		return
	}
	// The secret is checked before anything about the key set is disclosed.
	switch {
	case !s.hasher.Equal(key.SecretHash, secret):
		idErr(http.StatusUnauthorized, "invalid_client", codeBadSecret, "The client secret does not match the client id.")
		return
	case key.Revoked:
		idErr(http.StatusUnauthorized, "invalid_client", codeRevoked, "These API keys have been revoked; get new keys.")
		return
	case key.Kind == vippsmgmt.KeyManagement:
		idErr(http.StatusUnauthorized, "invalid_client", codeBadCredentials, "Management keys get their token from POST /miami/v1/token.")
		return
	case !s.hasher.Equal(key.SubscriptionKeyHash, sub):
		idErr(http.StatusUnauthorized, "invalid_client", codeBadCredentials, "The Ocp-Apim-Subscription-Key belongs to other API keys than the client id.")
		return
	}

	if ok, wait := s.limiters.allow("id:"+key.ClientID, now); !ok {
		tooMany(wait)
		return
	}
	tok, err := s.IssueClassic(key)
	if err != nil {
		s.identityServerError(w, r, now, err)
		return
	}
	// Counted from the response time, like the real API (its example shows 86398, not 86400).
	expiresIn := max(0, int64(tok.ExpiresAt.Sub(s.clock.Now())/time.Second))
	noStore(w)
	writeJSON(w, http.StatusOK, AuthorizationTokenResponse{
		TokenType:    "Bearer",
		ExpiresIn:    strconv.FormatInt(expiresIn, 10),
		ExtExpiresIn: "0",
		ExpiresOn:    strconv.FormatInt(tok.ExpiresAt.Unix(), 10),
		NotBefore:    strconv.FormatInt(tok.NotBefore.Unix(), 10),
		Resource:     resourceID,
		AccessToken:  tok.AccessToken,
	})
}

// handleMiamiToken serves POST /miami/v1/token: OAuth 2.0 client credentials for management keys,
// with the client authenticated by HTTP Basic. As on /accesstoken/get, refusals count against the
// caller's address and only right credentials are charged to the client id's bucket.
func (s *Service) handleMiamiToken(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	tooMany := func(wait time.Duration, whose string) {
		secs := retryAfterSeconds(wait)
		w.Header().Set("Retry-After", secs)
		writeJSON(w, http.StatusTooManyRequests, OAuthError{"temporarily_unavailable", "Too many requests " + whose + "; try again in " + secs + " seconds."})
	}
	key, refusal, err := s.miamiClient(r)
	switch {
	case problem.ClientGone(r.Context(), err):
		w.WriteHeader(problem.StatusClientClosedRequest)
		return
	case err != nil:
		slog.ErrorContext(r.Context(), "token endpoint: store failed", "request_id", problem.RequestID(r.Context()), "error", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "The server could not check the credentials; try again.")
		return
	case refusal != nil:
		if ok, wait := s.failures.allow(remoteKey(r), now); !ok {
			tooMany(wait, "with wrong credentials from this address")
			return
		}
		refusal(w)
		return
	}
	if ok, wait := s.limiters.allow("id:"+key.ClientID, now); !ok {
		tooMany(wait, "for this client id")
		return
	}
	tok, err := s.IssueManagement(key)
	if err != nil {
		slog.ErrorContext(r.Context(), "token endpoint: issue failed", "request_id", problem.RequestID(r.Context()), "error", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "The server could not issue a token; try again.")
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: int(ManagementTTL / time.Second)})
}

// miamiClient checks a /miami/v1/token request: it returns the management key set it
// authenticates, or the refusal to send, or a store error.
func (s *Service) miamiClient(r *http.Request) (*vippsmgmt.APIKey, func(http.ResponseWriter), error) {
	unauthorized := func(desc string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) { oauthUnauthorized(w, desc) }
	}
	bad := func(status int, code, desc string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) { oauthError(w, status, code, desc) }
	}
	if r.Header.Get("Ocp-Apim-Subscription-Key") != "" {
		return nil, unauthorized("This endpoint takes no Ocp-Apim-Subscription-Key; remove the header."), nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, bad(http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded with grant_type=client_credentials."), nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, bad(http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("The form body is larger than %d bytes.", tooLarge.Limit)), nil
		}
		return nil, bad(http.StatusBadRequest, "invalid_request", "The form body could not be read."), nil
	}
	switch gt := r.PostForm["grant_type"]; {
	case len(gt) == 0 || gt[0] == "":
		// The quick start documents invalid_client for a missing grant_type.
		return nil, bad(http.StatusBadRequest, "invalid_client", "The form body lacks grant_type=client_credentials."), nil
	case len(gt) > 1:
		return nil, bad(http.StatusBadRequest, "invalid_request", "grant_type is given more than once."), nil
	case gt[0] != "client_credentials":
		return nil, bad(http.StatusBadRequest, "unsupported_grant_type", "Only grant_type=client_credentials is supported."), nil
	}

	if msg := repeatedHeader(r.Header, "Authorization"); msg != "" {
		return nil, bad(http.StatusBadRequest, "invalid_request", msg), nil
	}
	user, pass, basicOK := r.BasicAuth()
	if !basicOK || user == "" || pass == "" {
		return nil, unauthorized("Send the client id and secret as Authorization: Basic base64(client_id:client_secret)."), nil
	}
	key, pass, err := s.findBasicClient(r, user, pass)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case key == nil || !s.hasher.Equal(key.SecretHash, pass):
		// Unknown id and wrong secret read the same: RFC 6749 has one error for both.
		return nil, unauthorized("The client id or secret is wrong."), nil
	case key.Revoked:
		return nil, unauthorized("These API keys have been revoked; get new keys."), nil
	case key.Kind != vippsmgmt.KeyManagement:
		return nil, unauthorized("Only management keys use this endpoint; partner and merchant keys get their token from POST /accesstoken/get."), nil
	}
	return key, nil, nil
}

// findBasicClient looks up the Basic credentials as sent and, failing that, form-decoded: RFC 6749
// section 2.3.1 has clients form-encode the id and secret before base64 (golang.org/x/oauth2 does),
// while the Vipps guides encode them raw. It returns a nil key when neither reading is known, and
// the secret that goes with the key found.
func (s *Service) findBasicClient(r *http.Request, user, pass string) (*vippsmgmt.APIKey, string, error) {
	key, err := s.findClient(r.Context(), user)
	if err == nil {
		if s.hasher.Equal(key.SecretHash, pass) {
			return key, pass, nil
		}
		if p, uerr := url.QueryUnescape(pass); uerr == nil && p != pass {
			return key, p, nil
		}
		return key, pass, nil
	}
	if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
		return nil, "", err
	}
	u, uerr := url.QueryUnescape(user)
	if uerr != nil || u == user {
		return nil, "", nil
	}
	key, err = s.findClient(r.Context(), u)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND {
		return nil, "", nil
	} else if err != nil {
		return nil, "", err
	}
	if p, uerr := url.QueryUnescape(pass); uerr == nil {
		pass = p
	}
	return key, pass, nil
}

// findClient looks up the key set of a client id a caller presents. A value the store cannot hold
// (PostgreSQL takes no NUL and no invalid UTF-8 in text) names no key set: ENOTFOUND, as for any
// unknown client id, not a failure of the server.
func (s *Service) findClient(ctx context.Context, clientID string) (*vippsmgmt.APIKey, error) {
	key, err := s.store.FindAPIKeyByClientID(ctx, clientID)
	if vippsmgmt.ErrorCode(err) == vippsmgmt.EINVALID {
		return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "No key set has that client id.")
	}
	return key, err
}

func (s *Service) writeIdentityError(w http.ResponseWriter, r *http.Request, now time.Time, status int, code string, num int, desc string) {
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	trace := uuid.NewString()
	corr := problem.RequestID(r.Context())
	if corr == "" {
		corr = uuid.NewString()
	}
	writeJSON(w, status, IdentityError{
		Error:            code,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", num, desc, trace, corr, ts),
		ErrorCodes:       []int{num},
		Timestamp:        ts,
		TraceID:          trace,
		CorrelationID:    corr,
	})
}

func (s *Service) identityServerError(w http.ResponseWriter, r *http.Request, now time.Time, err error) {
	if problem.ClientGone(r.Context(), err) {
		w.WriteHeader(problem.StatusClientClosedRequest)
		return
	}
	slog.ErrorContext(r.Context(), "token endpoint failed", "request_id", problem.RequestID(r.Context()), "error", err)
	s.writeIdentityError(w, r, now, http.StatusInternalServerError, "temporarily_unavailable", codeServerError, "The server could not check the credentials; try again.")
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, OAuthError{code, desc})
}

// oauthUnauthorized answers 401 invalid_client with the Basic challenge RFC 6749 section 5.2
// requires when the client authenticated through the Authorization header.
func oauthUnauthorized(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="vippsmgmt"`)
	oauthError(w, http.StatusUnauthorized, "invalid_client", desc)
}

// quoteClientID echoes an unknown client id in an error only when it has the GUID form of real
// client ids: a swapped client_id and client_secret would otherwise send the secret back in a body
// that ends up in CI logs.
func quoteClientID(id string) string {
	if guidRE.MatchString(id) {
		return "'" + id + "'"
	}
	return "(not shown)"
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeJSON answers every token response, success or error, in the one content type the official
// contract declares for these endpoints.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", tokenContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
