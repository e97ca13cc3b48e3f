// Package metrics keeps the server's counters and histograms and writes them, with the Go
// runtime's and the process's own figures, in the Prometheus text exposition format (version
// 0.0.4), which every Prometheus-compatible scraper reads.
//
// It does what the server needs and no more: counters, histograms and counter or gauge
// functions, with or without labels, and collectors that report whole families when /metrics is
// read. A general client library would add protobuf, OpenMetrics and summaries over time, and
// with them megabytes of code mapped into every process.
package metrics

import (
	"compress/gzip"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a family's type, as its # TYPE line names it.
type Type string

// The family types this package writes.
const (
	TypeCounter   Type = "counter"
	TypeGauge     Type = "gauge"
	TypeHistogram Type = "histogram"
	TypeSummary   Type = "summary"
)

// Registry holds the families /metrics shows. Registering a name twice, or a name or label that
// the format does not allow, panics: both are mistakes in the program, not in its input.
type Registry struct {
	mu         sync.Mutex
	names      map[string]bool
	families   []family
	collectors []func() []Family
}

// family is a family this package keeps the values of.
type family interface {
	header() *header
	// appendSamples appends the family's sample lines, none when it has no series yet.
	appendSamples(b []byte) []byte
}

// header is what every family starts with: its name, help text and type.
type header struct {
	name, help string
	typ        Type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) add(f family) {
	name := f.header().name
	if !validMetricName(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// Collect registers a function that reports families when /metrics is read, for figures that
// are read from elsewhere (the runtime, the operating system, a connection pool) rather than
// counted here. Its families must not share a name with another family of the registry.
func (r *Registry) Collect(collect func() []Family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, collect)
}

// Family is a family reported by a collector.
type Family struct {
	Name, Help string
	Type       Type
	Samples    []Sample
}

// Sample is one line of a collected family. Suffix follows the family's name, e.g. "_sum" of a
// summary.
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// Label is a label's name and value.
type Label struct{ Name, Value string }

// single is a collected family of one sample: a figure read elsewhere, as most collected ones are.
func single(typ Type, name, help string, value float64, labels ...Label) Family {
	return Family{Name: name, Help: help, Type: typ, Samples: []Sample{{Labels: labels, Value: value}}}
}

// AppendText appends every family with at least one sample, sorted by name, in the text format.
func (r *Registry) AppendText(b []byte) []byte {
	r.mu.Lock()
	families, collectors := slices.Clone(r.families), slices.Clone(r.collectors)
	r.mu.Unlock()
	type text struct {
		name  string
		lines []byte
	}
	var all []text
	for _, f := range families {
		if lines := f.appendSamples(nil); len(lines) > 0 {
			h := f.header()
			all = append(all, text{h.name, append(appendHeader(nil, h.name, h.help, h.typ), lines...)})
		}
	}
	for _, c := range collectors {
		for _, f := range c() {
			if len(f.Samples) > 0 {
				all = append(all, text{f.Name, f.append(nil)})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b text) int { return strings.Compare(a.name, b.name) })
	for _, t := range all {
		b = append(b, t.lines...)
	}
	return b
}

func (f *Family) append(b []byte) []byte {
	b = appendHeader(b, f.Name, f.Help, f.Type)
	for _, s := range f.Samples {
		b = append(b, f.Name...)
		b = append(b, s.Suffix...)
		if len(s.Labels) > 0 {
			labels := slices.Clone(s.Labels)
			slices.SortFunc(labels, func(x, y Label) int { return strings.Compare(x.Name, y.Name) })
			b = append(b, '{')
			for i, l := range labels {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendLabel(b, l.Name, l.Value)
			}
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = appendValue(b, s.Value)
		b = append(b, '\n')
	}
	return b
}

// Handler serves the registry's text, gzipped when the client accepts it (as Prometheus does).
func (r *Registry) Handler() http.Handler {
	var pool sync.Pool
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		bp, _ := pool.Get().(*[]byte)
		if bp == nil {
			bp = new([]byte)
		}
		defer pool.Put(bp)
		*bp = r.AppendText((*bp)[:0])
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Add("Vary", "Accept-Encoding")
		if !acceptsGzip(req.Header.Values("Accept-Encoding")) {
			h.Set("Content-Length", strconv.Itoa(len(*bp)))
			_, _ = w.Write(*bp)
			return
		}
		h.Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = gz.Write(*bp)
		_ = gz.Close()
	})
}

// acceptsGzip reports whether Accept-Encoding lists gzip with a non-zero quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			if !ok {
				return true
			}
			if f, err := strconv.ParseFloat(q, 64); err == nil && f > 0 {
				return true
			}
		}
	}
	return false
}

// Counter counts up from zero.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

// Value is the count so far.
func (c *Counter) Value() uint64 { return c.n.Load() }

// Histogram counts observations into buckets by upper bound and sums them.
type Histogram struct {
	upper  []float64       // ascending, +Inf excluded
	counts []atomic.Uint64 // per bucket, not cumulative; the last one is +Inf's own
	sum    atomic.Uint64   // float64 bits
}

// Observe records v: it falls into the first bucket whose upper bound is at least v.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.upper) && v > h.upper[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// vec is what the labelled families share: series by label values, created on first use.
type vec[T any] struct {
	head   header
	labels []string
	order  []int // label indexes sorted by label name: the order the text format writes them
	make   func() *T

	mu     sync.RWMutex
	series map[string]*series[T]
}

type series[T any] struct {
	sortKey []string // the values in label-name order
	labels  string   // the rendered labels without the closing brace, e.g. {a="x",b="y"
	metric  T
}

func newVec[T any](h header, labels []string, mk func() *T) *vec[T] {
	order := make([]int, len(labels))
	for i, l := range labels {
		if !validLabelName(l) || l == "le" || l == "quantile" {
			panic(fmt.Sprintf("metrics: invalid label name %q of %s", l, h.name))
		}
		if slices.Contains(labels[:i], l) {
			panic(fmt.Sprintf("metrics: label %q of %s given twice", l, h.name))
		}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &vec[T]{head: h, labels: slices.Clone(labels), order: order, make: mk, series: map[string]*series[T]{}}
}

func (v *vec[T]) header() *header { return &v.head }

// with returns the series of the label values, given in the order the labels were declared.
func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", v.head.name, len(v.labels), len(values)))
	}
	// Values are keyed and written as valid UTF-8. That keeps 0xFF, the separator of the key,
	// out of the values, so no two lists of values share a key, and makes values that are written
	// alike one series rather than two lines the scraper would refuse as duplicates.
	if i := slices.IndexFunc(values, func(s string) bool { return !utf8.ValidString(s) }); i >= 0 {
		values = slices.Clone(values)
		for ; i < len(values); i++ {
			values[i] = strings.ToValidUTF8(values[i], "\uFFFD")
		}
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	s := v.series[key]
	v.mu.RUnlock()
	if s != nil {
		return &s.metric
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[key]; s == nil {
		s = &series[T]{sortKey: make([]string, len(values))}
		var b []byte
		for i, j := range v.order {
			val := values[j]
			s.sortKey[i] = val
			if i == 0 {
				b = append(b, '{')
			} else {
				b = append(b, ',')
			}
			b = appendLabel(b, v.labels[j], val)
		}
		s.labels = string(b)
		s.metric = *v.make()
		v.series[key] = s
	}
	return &s.metric
}

// sorted returns the series in the order the text format lists them: by label values.
func (v *vec[T]) sorted() []*series[T] {
	v.mu.RLock()
	out := make([]*series[T], 0, len(v.series))
	for _, s := range v.series {
		out = append(out, s)
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b *series[T]) int { return slices.Compare(a.sortKey, b.sortKey) })
	return out
}

// CounterVec is a counter family with labels.
type CounterVec struct{ *vec[Counter] }

// NewCounterVec registers a counter family with the given labels.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{newVec(header{name, help, TypeCounter}, labels, func() *Counter { return new(Counter) })}
	r.add(c)
	return c
}

// With returns the counter of the label values, in the order the labels were declared. Values
// that are not UTF-8 are written with U+FFFD in place of their bad bytes.
func (c *CounterVec) With(values ...string) *Counter { return c.with(values) }

func (c *CounterVec) appendSamples(b []byte) []byte {
	for _, s := range c.sorted() {
		b = appendSample(b, c.head.name, "", s.labels, float64(s.metric.Value()))
	}
	return b
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	*vec[Histogram]
	bounds []string // the upper bounds as le values, +Inf included
}

// NewHistogramVec registers a histogram family with the given bucket upper bounds (ascending;
// +Inf is added) and labels.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	upper := slices.Clone(buckets)
	if len(upper) > 0 && math.IsInf(upper[len(upper)-1], +1) {
		upper = upper[:len(upper)-1]
	}
	for i, u := range upper {
		if math.IsNaN(u) || (i > 0 && u <= upper[i-1]) {
			panic(fmt.Sprintf("metrics: buckets of %s must ascend strictly, got %v", name, buckets))
		}
	}
	h := &HistogramVec{vec: newVec(header{name, help, TypeHistogram}, labels, func() *Histogram {
		return &Histogram{upper: upper, counts: make([]atomic.Uint64, len(upper)+1)}
	})}
	for _, u := range upper {
		h.bounds = append(h.bounds, string(appendValue(nil, u)))
	}
	h.bounds = append(h.bounds, "+Inf")
	r.add(h)
	return h
}

// With returns the histogram of the label values, in the order the labels were declared.
func (h *HistogramVec) With(values ...string) *Histogram { return h.with(values) }

func (h *HistogramVec) appendSamples(b []byte) []byte {
	for _, s := range h.sorted() {
		// The sum is read first: an observation racing the write shows in the counts rather
		// than in a sum the counts do not explain.
		sum := math.Float64frombits(s.metric.sum.Load())
		var cumulative uint64
		for i, le := range h.bounds {
			cumulative += s.metric.counts[i].Load()
			b = append(b, h.head.name...)
			b = append(b, "_bucket"...)
			if s.labels == "" {
				b = append(b, '{')
			} else {
				b = append(b, s.labels...)
				b = append(b, ',')
			}
			b = append(b, `le="`...)
			b = append(b, le...)
			b = append(b, "\"} "...)
			b = appendValue(b, float64(cumulative))
			b = append(b, '\n')
		}
		b = appendSample(b, h.head.name, "_sum", s.labels, sum)
		b = appendSample(b, h.head.name, "_count", s.labels, float64(cumulative))
	}
	return b
}

// funcFamily is a family of one unlabelled value read when /metrics is read.
type funcFamily struct {
	head  header
	value func() float64
}

func (f *funcFamily) header() *header { return &f.head }

func (f *funcFamily) appendSamples(b []byte) []byte {
	return appendSample(b, f.head.name, "", "", f.value())
}

// CounterFunc registers a counter whose value value reads when /metrics is read.
func (r *Registry) CounterFunc(name, help string, value func() float64) {
	r.add(&funcFamily{header{name, help, TypeCounter}, value})
}

// GaugeFunc registers a gauge whose value value reads when /metrics is read.
func (r *Registry) GaugeFunc(name, help string, value func() float64) {
	r.add(&funcFamily{header{name, help, TypeGauge}, value})
}

func appendHeader(b []byte, name, help string, typ Type) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	for i := 0; i < len(help); i++ {
		switch c := help[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// appendSample appends one sample line: the family's name with a suffix such as "_sum", the
// rendered labels (see series.labels; "" for none) and the value.
func appendSample(b []byte, name, suffix, labels string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels != "" {
		b = append(b, labels...)
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendValue(b, v)
	return append(b, '\n')
}

// appendLabel appends name="value" with the value's backslashes, quotes and newlines escaped.
func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, `="`...)
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendValue writes a value as Prometheus's own client does: the shortest 'g' form.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func validMetricName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

func validLabelName(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != "" && !strings.HasPrefix(s, "__") && utf8.ValidString(s)
}
