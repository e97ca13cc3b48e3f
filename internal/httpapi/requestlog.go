package httpapi

import (
	"sync"
	"time"
)

// RequestRecord is one API request as the console's request log shows it. It never holds secrets,
// tokens or bodies.
type RequestRecord struct {
	Time          time.Time `json:"time"`
	RequestID     string    `json:"requestId"`
	Caller        string    `json:"caller"`
	Method        string    `json:"method"`
	Route         string    `json:"route"`
	Path          string    `json:"path"`
	Status        int       `json:"status"`
	LatencyMs     float64   `json:"latencyMs"`
	SystemName    string    `json:"systemName,omitempty"`
	SystemVersion string    `json:"systemVersion,omitempty"`
	PluginName    string    `json:"pluginName,omitempty"`
	PluginVersion string    `json:"pluginVersion,omitempty"`
}

// RequestLog keeps the last requests in a fixed ring, so it costs the same memory however long the
// server runs.
type RequestLog struct {
	mu   sync.Mutex
	ring []RequestRecord
	next int
	full bool
}

// NewRequestLog returns a log holding the last size requests.
func NewRequestLog(size int) *RequestLog { return &RequestLog{ring: make([]RequestRecord, size)} }

// Add records one request.
func (l *RequestLog) Add(r RequestRecord) {
	l.mu.Lock()
	l.ring[l.next] = r
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	l.mu.Unlock()
}

// Last returns up to n records, newest first.
func (l *RequestLog) Last(n int) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	count := l.next
	if l.full {
		count = len(l.ring)
	}
	if n <= 0 || n > count {
		n = count
	}
	out := make([]RequestRecord, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}
