package vippsmgmt

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultRule makes matching requests to a sandbox fail on purpose, so a partner can test how its
// integration handles errors the real service gives only rarely. A request that a rule fires on
// is answered by the rule and never reaches the data.
type FaultRule struct {
	ID     string
	Match  FaultMatch
	Effect FaultEffect
	// At most one budget; none means every matching request until the rule is deleted.
	Count       *int       // the next Count matching requests
	Probability *float64   // each matching request with this probability
	Until       *time.Time // every matching request before this time of the server's clock
	Remaining   *int       // what is left of Count
	Fired       int64      // how often the rule fired
	CreatedAt   time.Time
}

// FaultMatch selects requests. The route is an operationId of the contract ("*" for all), or a
// method and path template such as GET /management/v1/sales-units/{msn}; an empty method matches
// every operation of the path. ClientID and PartnerID narrow it to one caller.
type FaultMatch struct {
	OperationID string
	Method      string
	Path        string
	ClientID    string
	PartnerID   string
}

// FaultEffect is what a fired rule does: answer Status with the real API's error body for it,
// wait Delay first (alone, the request then goes on as usual), or Drop the connection without an
// answer.
type FaultEffect struct {
	Status            int
	RetryAfterSeconds int // Retry-After of a 429 or 503
	Delay             time.Duration
	Drop              bool
}

// Bounds of fault rules.
const (
	MaxFaultDelay      = 30 * time.Second // an added delay; longer ones would only hit clients' timeouts
	MaxFaultCount      = 1_000_000
	MaxFaultRetryAfter = 3600
	MaxFaultRules      = 100 // rules kept at once
)

// AllOperations is the route of a rule that matches every operation.
const AllOperations = "*"

// FaultStatuses are the statuses a rule can answer with: the ones the real service gives that a
// partner cannot provoke (an expired token's 401, the gateway's 429, server and gateway errors).
var FaultStatuses = []int{401, 429, 500, 502, 503, 504}

var faultIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

// Validate checks a rule's shape and bounds. Whether its route names an operation of the contract
// is checked by internal/fault, which knows the contract.
func (r *FaultRule) Validate() error {
	var errs []FieldError
	add := func(field, problem string) { errs = append(errs, FieldError{field, problem}) }
	if !faultIDRE.MatchString(r.ID) {
		add("id", "must be 1 to 64 letters, digits, dots, dashes or underscores")
	}
	m := r.Match
	switch {
	case m.OperationID != "" && (m.Method != "" || m.Path != ""):
		add("match.operationId", "give either operationId or method and path, not both")
	case m.OperationID == "" && m.Path == "":
		if m.Method != "" {
			add("match.path", "is required with match.method")
		} else {
			add("match.operationId", `is required (an operationId of the contract, or "*" for all), unless match.path is given`)
		}
	}
	if m.Method != "" && !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, m.Method) {
		add("match.method", "must be GET, POST, PUT, PATCH or DELETE")
	}
	if m.ClientID != "" && !clientIDRE.MatchString(m.ClientID) {
		add("match.clientId", "must be 1 to 100 letters, digits, dots, dashes or underscores")
	}
	if m.PartnerID != "" && !partnerIDRE.MatchString(m.PartnerID) {
		add("match.partnerId", "must be 1 to 64 letters, digits, dots, dashes or underscores")
	}

	e := r.Effect
	switch {
	case e.Status == 0 && e.Delay == 0 && !e.Drop:
		add("effect", "give a status, a delay or drop: true")
	case e.Status != 0 && e.Drop:
		add("effect.drop", "a dropped connection has no status; give one or the other")
	}
	if e.Status != 0 && !slices.Contains(FaultStatuses, e.Status) {
		add("effect.status", "must be one of "+joinInts(FaultStatuses))
	}
	if e.Delay < 0 || e.Delay > MaxFaultDelay {
		add("effect.delay", fmt.Sprintf("must be a duration from 0s to %s", MaxFaultDelay))
	}
	switch {
	case e.RetryAfterSeconds < 0 || e.RetryAfterSeconds > MaxFaultRetryAfter:
		add("effect.retryAfterSeconds", fmt.Sprintf("must be 0 to %d", MaxFaultRetryAfter))
	case e.RetryAfterSeconds > 0 && e.Status != 429 && e.Status != 503:
		add("effect.retryAfterSeconds", "goes only with status 429 or 503")
	}

	budgets := 0
	if r.Count != nil {
		budgets++
		if *r.Count < 1 || *r.Count > MaxFaultCount {
			add("count", fmt.Sprintf("must be 1 to %d", MaxFaultCount))
		}
	}
	if r.Probability != nil {
		budgets++
		if p := *r.Probability; !(p >= 0 && p <= 1) {
			add("probability", "must be from 0 to 1")
		}
	}
	if r.Until != nil {
		budgets++
	}
	if budgets > 1 {
		field := "until"
		if r.Probability != nil {
			field = "probability"
		}
		add(field, "give at most one of count, probability and until")
	}
	return InvalidFields(errs)
}

// Exhausted reports whether the rule can no longer fire at now: its count is spent or its time
// is over.
func (r *FaultRule) Exhausted(now time.Time) bool {
	return (r.Remaining != nil && *r.Remaining <= 0) || (r.Until != nil && !now.Before(*r.Until))
}

// Fires decides whether a matching request at now is answered by the rule; roll is uniform in
// [0, 1). A count budget is only a hint here: the store takes one from it atomically.
func (r *FaultRule) Fires(now time.Time, roll float64) bool {
	if r.Exhausted(now) {
		return false
	}
	return r.Probability == nil || roll < *r.Probability
}

// SameDefinition reports whether r and o match and act alike with the same budget, so loading a
// fixture file again leaves a rule's spent budget alone.
func (r *FaultRule) SameDefinition(o *FaultRule) bool {
	eqInt := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	eqF := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	eqT := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return r.Match == o.Match && r.Effect == o.Effect && eqInt(r.Count, o.Count) && eqF(r.Probability, o.Probability) && eqT(r.Until, o.Until)
}

// Route describes the rule's route for people: the operationId or "METHOD /path".
func (m FaultMatch) Route() string {
	switch {
	case m.OperationID != "":
		return m.OperationID
	case m.Method == "":
		return "* " + m.Path
	}
	return m.Method + " " + m.Path
}

// Describe says what the effect does, for lists.
func (e FaultEffect) Describe() string {
	var parts []string
	if e.Delay > 0 {
		parts = append(parts, "delay "+e.Delay.String())
	}
	if e.Status != 0 {
		s := strconv.Itoa(e.Status)
		if e.RetryAfterSeconds > 0 {
			s += fmt.Sprintf(" (Retry-After %d)", e.RetryAfterSeconds)
		}
		parts = append(parts, s)
	}
	if e.Drop {
		parts = append(parts, "drop the connection")
	}
	return strings.Join(parts, ", then ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
