// Package reliability holds end-to-end tests that show vippsmgmt holds under faults, abuse and
// load: one partner never sees another's data (OWASP API1), forged, expired and revoked
// credentials are refused and secrets never leak (API2), bad input never causes a 5xx, retries
// with one Idempotency-Key create one order even across processes, a killed server loses no
// acknowledged write, several processes share one PostgreSQL, and SIGTERM drains in-flight
// requests. The tests run against real servers on 127.0.0.1: in-process (internal/testserver)
// and, where a process boundary matters, the built `vippsmgmt serve` binary.
//
// The package has no non-test code besides this comment.
package reliability
