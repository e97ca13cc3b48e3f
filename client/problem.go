package client

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is every non-2xx answer, from the Management API, the operator API and both token
// endpoints. Use errors.As to get at it:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Status == http.StatusNotFound { ... }
//
// Management API errors are RFC 9457 problem details and map field by field. The token
// endpoints answer in the shapes of the real service instead: the identity provider's
// {error, error_description, error_codes, trace_id, ...}, OAuth's {error, error_description}
// and the gateway's {statusCode, message}. For those, Title is the error code (or the HTTP
// status text for the gateway), Detail the description, and the identity provider's extra
// fields are listed in ExtraDetails.
type Problem struct {
	Status       int            // HTTP status code
	Type         string         // kind of problem, a URI
	Title        string         // short summary, or the OAuth/identity error code
	Detail       string         // what went wrong this time
	Instance     string         // this occurrence, such as urn:uuid:<request id>
	ExtraDetails []ExtraDetails // one entry per failed rule, or the identity error's extra fields

	// RetryAfter is the server's Retry-After, when it sent one (429).
	RetryAfter time.Duration
	// Method and URL are the request that failed.
	Method, URL string
}

// Error returns one line: request, status, title and detail.
func (p *Problem) Error() string {
	var b strings.Builder
	if p.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", p.Method, p.URL)
	}
	fmt.Fprintf(&b, "%d", p.Status)
	if p.Title != "" {
		b.WriteString(" " + p.Title)
	}
	if p.Detail != "" && p.Detail != p.Title {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// problemBody holds the union of the error shapes the server may send.
type problemBody struct {
	Type         string          `json:"type"`
	Title        string          `json:"title"`
	Status       json.RawMessage `json:"status"` // the HTTP status is authoritative; some services send a string here
	Detail       string          `json:"detail"`
	Instance     string          `json:"instance"`
	ExtraDetails []ExtraDetails  `json:"extraDetails"`

	StatusCode int    `json:"statusCode"` // gateway
	Message    string `json:"message"`    // gateway

	Error            string `json:"error"` // OAuth and identity provider
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// newProblem turns an error response into a Problem; body is what was read of it.
func newProblem(resp *http.Response, body []byte) *Problem {
	p := &Problem{Status: resp.StatusCode}
	if resp.Request != nil {
		p.Method = resp.Request.Method
		p.URL = resp.Request.URL.Redacted()
	}
	p.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())

	var b problemBody
	if err := json.Unmarshal(body, &b); err != nil {
		// Not JSON: a proxy's HTML page or plain text. Keep a readable piece of it.
		p.Title = http.StatusText(resp.StatusCode)
		p.Detail = shorten(string(body))
		return p
	}
	switch {
	case b.Error != "":
		p.Title = b.Error
		p.Detail = b.ErrorDescription
		p.Instance = b.TraceID
		extra := func(k, v string) {
			if v != "" {
				p.ExtraDetails = append(p.ExtraDetails, ExtraDetails{Key: k, Value: v})
			}
		}
		for _, c := range b.ErrorCodes {
			extra("error_code", strconv.Itoa(c))
		}
		extra("timestamp", b.Timestamp)
		extra("trace_id", b.TraceID)
		extra("correlation_id", b.CorrelationID)
		extra("error_uri", b.ErrorURI)
	case b.Message != "" && b.Title == "" && b.Detail == "":
		p.Title = http.StatusText(resp.StatusCode)
		p.Detail = b.Message
	default:
		p.Type, p.Title, p.Detail, p.Instance, p.ExtraDetails = b.Type, b.Title, b.Detail, b.Instance, b.ExtraDetails
		if p.Title == "" {
			p.Title = http.StatusText(resp.StatusCode)
		}
	}
	return p
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		// Cut at a character's start, so the detail stays valid UTF-8.
		n := 200
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		// Seconds past what a Duration holds mean "not in any budget", not a wrapped-round wait.
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
