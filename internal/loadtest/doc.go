// Package loadtest measures a running vippsmgmt server from outside: it seeds a database through
// internal/sqlstore, starts `vippsmgmt serve` as a child process (so its memory is read from
// /proc apart from the load generator's) and drives it over loopback HTTP.
//
// RunScale compares the authenticated GET /management/v1/sales-units/{msn} with a bare net/http
// handler serving the same bytes, downloads a 100,000-unit list while watching the server's peak
// RSS, and measures prefills per second on SQLite and PostgreSQL. RunSoak sends a fixed rate of a
// realistic mix for a fixed time and reports latency percentiles, errors and RSS growth.
// cmd/vippsmgmt-load is the command; the tests here run both at a small size.
//
// Every run is bounded in time and count and talks only to 127.0.0.1.
package loadtest
