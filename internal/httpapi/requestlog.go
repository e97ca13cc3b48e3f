package httpapi

import (
	"sync"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// RequestRecord is one API request as the console's request log shows it. It never holds secrets,
// tokens or bodies. Every string a client chose is clipped to MaxClientString bytes.
type RequestRecord struct {
	// Seq numbers the records of this process's log in the order they were added, from 1.
	Seq           int64     `json:"-"`
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
	// Injected marks an answer a fault rule gave (FaultRule names it), not the API.
	Injected  bool   `json:"injected,omitempty"`
	FaultRule string `json:"faultRule,omitempty"`
}

// recordOverhead approximates a record's fixed part (time, numbers, string headers) in memory and
// in its JSON form.
const recordOverhead = 160

// size is the bytes a record counts against the log's byte bound.
func (r *RequestRecord) size() int {
	return recordOverhead + len(r.RequestID) + len(r.Caller) + len(r.Method) + len(r.Route) + len(r.Path) +
		len(r.SystemName) + len(r.SystemVersion) + len(r.PluginName) + len(r.PluginVersion) + len(r.FaultRule)
}

// Default bounds of the request log: the last 1000 requests, and never more than 1 MiB of them.
const (
	DefaultRequestLogRecords = 1000
	DefaultRequestLogBytes   = 1 << 20
)

// RequestLog keeps the last requests in a fixed ring, bounded both in records and in bytes, so it
// costs at most the same memory however long the server runs and whatever clients send.
type RequestLog struct {
	mu       sync.Mutex
	ring     []RequestRecord
	start    int // oldest record
	count    int
	bytes    int
	maxBytes int
	lastSeq  int64
}

// RequestList is the request log as a paged list, newest first.
var RequestList = vippsmgmt.NewList("requests", "i", func(r RequestRecord) vippsmgmt.Cursor { return vippsmgmt.Cursor{r.Seq} })

// NewRequestLog returns a log holding the last size requests, within DefaultRequestLogBytes.
func NewRequestLog(size int) *RequestLog { return NewRequestLogBytes(size, DefaultRequestLogBytes) }

// NewRequestLogBytes returns a log holding the last size requests whose sizes add up to at most
// maxBytes.
func NewRequestLogBytes(size, maxBytes int) *RequestLog {
	return &RequestLog{ring: make([]RequestRecord, size), maxBytes: maxBytes}
}

// Add records one request, dropping the oldest ones that no longer fit.
func (l *RequestLog) Add(r RequestRecord) {
	n := r.size()
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.maxBytes || len(l.ring) == 0 {
		return
	}
	for l.count > 0 && (l.count == len(l.ring) || l.bytes+n > l.maxBytes) {
		l.bytes -= l.ring[l.start].size()
		l.ring[l.start] = RequestRecord{}
		l.start = (l.start + 1) % len(l.ring)
		l.count--
	}
	l.lastSeq++
	r.Seq = l.lastSeq
	l.ring[(l.start+l.count)%len(l.ring)] = r
	l.count++
	l.bytes += n
}

// Bytes is the size of the records held, as counted against the byte bound.
func (l *RequestLog) Bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}

// Last returns up to n records, newest first; n <= 0 returns all.
func (l *RequestLog) Last(n int) []RequestRecord { return l.Page(vippsmgmt.Page{Limit: n}) }

// Page returns the records of page p of RequestList, newest first: those older than p.After, at
// most p.Limit of them (0: all). Records added meanwhile are newer, so they never shift a page.
func (l *RequestLog) Page(p vippsmgmt.Page) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 1 // the newest record is i = 1, the oldest i = count
	if p.After != nil {
		// Sequence numbers are consecutive in the ring (record i has lastSeq-i+1), so the first
		// record older than the cursor is found by arithmetic.
		switch before := p.After[0].(int64); {
		case before < 1:
			i = l.count + 1
		case before <= l.lastSeq:
			i = int(min(l.lastSeq-before+2, int64(l.count)+1))
		}
	}
	n := l.count - i + 1
	if p.Limit > 0 && p.Limit < n {
		n = p.Limit
	}
	out := make([]RequestRecord, 0, max(n, 0))
	for ; len(out) < n; i++ {
		out = append(out, l.ring[(l.start+l.count-i)%len(l.ring)])
	}
	return out
}
