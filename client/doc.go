// Package client is a Go SDK for the Vipps MobilePay Management API and the Access Token API
// behind it. It talks to production (ProductionURL, https://api.vipps.no) or to any vippsmgmt
// server, which serves the same paths; only the base URL differs.
//
// # Keys and tokens
//
// Create one Client per key set and share it:
//
//	c, err := client.New(client.ProductionURL,
//		client.WithPartnerKeys(clientID, clientSecret, subscriptionKey),
//		client.WithSystem("acme-pos", "3.1.2"))
//
// Partner and merchant keys (WithPartnerKeys, WithMerchantKeys) use the standard flow,
// POST /accesstoken/get with client_id, client_secret and Ocp-Apim-Subscription-Key headers; every
// call then sends "Authorization: Bearer <token>" and the subscription key. Management keys
// (WithManagementKeys) use the specialized flow, POST /miami/v1/token with Basic authentication
// and grant_type=client_credentials; calls send the token alone.
//
// The client fetches the token on first use, caches it and renews it ahead of expiry (when less
// than a tenth of its lifetime, or a minute, is left). Concurrent calls share one token request.
// When the API answers 401 anyway, the token is dropped, a new one fetched and the call repeated
// once.
//
// # Retries and idempotency
//
// The client repeats a call only where that is safe: a request that got no response (GETs and
// the prefill; other methods only if the connection could not be made), 429 (honouring
// Retry-After) and 5xx for GETs and the prefill. It backs off exponentially with jitter, makes at
// most RetryPolicy.MaxAttempts attempts within RetryPolicy.MaxElapsed, and stops when the
// context ends. OrderProduct sends an Idempotency-Key, random per call unless WithIdempotencyKey
// gives one, and reuses it on every retry, so retries never create a second order.
//
// # Errors
//
// Every non-2xx answer is a *Problem, whichever of the service's error shapes it came in:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Status == http.StatusNotFound {
//		// not there, or not visible to these keys
//	}
//
// # Operator API
//
// A vippsmgmt server also plays Vipps MobilePay's own part: approving product orders, issuing
// keys, moving its sandbox clock. Client.Admin reaches that API with WithAdminToken.
//
// # Quick start
//
// The examples follow steps 2 to 11 of the Management API quick start: get a token, list sales
// units, read one, find its merchant and that merchant's sales units, list product orders,
// prefill one, read it, delete it, and list price packages.
package client
