package auth

import (
	"net/http"
	"strconv"
	"time"
)

// The answers an injected fault gives, in the shapes these endpoints and the gateway in front of
// them use for real failures, so a client's error handling meets what production sends.

// codeSecretExpired is the identity provider's code for expired client credentials: the token
// endpoints' counterpart of an expired access token.
const codeSecretExpired = 7000222

var gatewayMessages = map[int]string{
	http.StatusBadGateway:         "Bad gateway: the backend did not give a valid answer.",
	http.StatusServiceUnavailable: "Service unavailable. Try again later.",
	http.StatusGatewayTimeout:     "Gateway timeout: the backend did not answer in time.",
}

// WriteAccessTokenFault answers POST /accesstoken/get with status: 401 and 500 as the identity
// provider words them, 429, 502, 503 and 504 as the gateway does. retryAfter > 0 sets Retry-After.
func (s *Service) WriteAccessTokenFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	now := s.clock.Now()
	if retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
	}
	switch status {
	case http.StatusUnauthorized:
		s.writeIdentityError(w, r, now, status, "invalid_client", codeSecretExpired, "The client secret of these API keys has expired; get new keys.")
	case http.StatusInternalServerError:
		s.writeIdentityError(w, r, now, status, "temporarily_unavailable", codeServerError, "The server could not check the credentials; try again.")
	case http.StatusTooManyRequests:
		secs := retryAfterSeconds(max(retryAfter, time.Second))
		w.Header().Set("Retry-After", secs)
		writeJSON(w, status, GatewayError{StatusCode: status, Message: "Rate limit is exceeded. Try again in " + secs + " seconds."})
	default:
		writeJSON(w, status, GatewayError{StatusCode: status, Message: gatewayMessage(status)})
	}
}

// WriteMiamiFault answers POST /miami/v1/token with status in the OAuth error shape the endpoint
// uses for its own failures.
func WriteMiamiFault(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
	}
	switch status {
	case http.StatusUnauthorized:
		oauthUnauthorized(w, "The client secret of these management keys has expired; get new keys.")
	case http.StatusTooManyRequests:
		secs := retryAfterSeconds(max(retryAfter, time.Second))
		w.Header().Set("Retry-After", secs)
		oauthError(w, status, "temporarily_unavailable", "Too many requests for this client id; try again in "+secs+" seconds.")
	case http.StatusServiceUnavailable:
		oauthError(w, status, "temporarily_unavailable", "The service is temporarily unavailable; try again later.")
	default:
		oauthError(w, status, "server_error", gatewayMessage(status))
	}
}

// WriteExpiredToken answers a Management API request as an expired access token is answered.
func WriteExpiredToken(w http.ResponseWriter, r *http.Request) {
	writeUnauthorized(w, r, "The access token has expired; fetch a new one.")
}

func gatewayMessage(status int) string {
	if m, ok := gatewayMessages[status]; ok {
		return m
	}
	if status == http.StatusInternalServerError {
		return "The server could not complete the request; try again."
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}
