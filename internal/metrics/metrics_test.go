package metrics

import (
	"compress/gzip"
	"database/sql"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestTextFormat pins the exact bytes of a small registry: the lines Prometheus's own client
// writes for the same families (sorted families and series, label names sorted, le last,
// cumulative buckets, escaped help and label values, empty families left out).
func TestTextFormat(t *testing.T) {
	r := NewRegistry()
	req := r.NewCounterVec("app_requests_total", "Requests by route and status.", "route", "code")
	lat := r.NewHistogramVec("app_latency_seconds", "Latency with a \\ and a\nnewline.", []float64{0.1, 1}, "route")
	r.NewCounterVec("app_unused_total", "Never counted: not shown.", "x")
	r.GaugeFunc("app_temperature", "A gauge.", func() float64 { return -1.5 })
	r.CounterFunc("app_big_total", "A large counter.", func() float64 { return 1e6 })
	r.Collect(func() []Family {
		return []Family{{Name: "app_collected", Help: "From a collector.", Type: TypeGauge,
			Samples: []Sample{{Labels: []Label{{"zone", "b"}, {"area", "a"}}, Value: 2}}}}
	})

	req.With("GET /b", "200").Inc()
	req.With("GET /a", "500").Add(2)
	req.With("GET /a", "200").Inc()
	req.With(`quote " back \ nl`+"\n", "200").Inc()
	lat.With("GET /a").Observe(0.05)
	lat.With("GET /a").Observe(0.1) // on the bound: le is inclusive
	lat.With("GET /a").Observe(0.5)
	lat.With("GET /a").Observe(3)

	want := `# HELP app_big_total A large counter.
# TYPE app_big_total counter
app_big_total 1e+06
# HELP app_collected From a collector.
# TYPE app_collected gauge
app_collected{area="a",zone="b"} 2
# HELP app_latency_seconds Latency with a \\ and a\nnewline.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{route="GET /a",le="0.1"} 2
app_latency_seconds_bucket{route="GET /a",le="1"} 3
app_latency_seconds_bucket{route="GET /a",le="+Inf"} 4
app_latency_seconds_sum{route="GET /a"} 3.65
app_latency_seconds_count{route="GET /a"} 4
# HELP app_requests_total Requests by route and status.
# TYPE app_requests_total counter
app_requests_total{code="200",route="GET /a"} 1
app_requests_total{code="200",route="GET /b"} 1
app_requests_total{code="200",route="quote \" back \\ nl\n"} 1
app_requests_total{code="500",route="GET /a"} 2
# HELP app_temperature A gauge.
# TYPE app_temperature gauge
app_temperature -1.5
`
	got := string(r.AppendText(nil))
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if err := Lint([]byte(got)); err != nil {
		t.Fatalf("Lint: %v", err)
	}
}

func TestHistogramWithoutLabels(t *testing.T) {
	r := NewRegistry()
	h := r.NewHistogramVec("h_seconds", "h.", []float64{1, 2, math.Inf(+1)})
	h.With().Observe(1.5)
	want := `# HELP h_seconds h.
# TYPE h_seconds histogram
h_seconds_bucket{le="1"} 0
h_seconds_bucket{le="2"} 1
h_seconds_bucket{le="+Inf"} 1
h_seconds_sum 1.5
h_seconds_count 1
`
	if got := string(r.AppendText(nil)); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestLintCatches feeds Lint broken texts: it must refuse each, or tests relying on it could
// not fail.
func TestLintCatches(t *testing.T) {
	const head = "# HELP h x\n# TYPE h histogram\n"
	for name, text := range map[string]string{
		"no newline":         "# HELP a x\n# TYPE a gauge\na 1",
		"no TYPE":            "# HELP a x\na 1\n",
		"unsorted":           "# HELP b x\n# TYPE b gauge\nb 1\n# HELP a x\n# TYPE a gauge\na 1\n",
		"twice":              "# HELP a x\n# TYPE a gauge\na 1\n# HELP a x\n# TYPE a gauge\na 1\n",
		"foreign sample":     "# HELP a x\n# TYPE a gauge\nb 1\n",
		"negative counter":   "# HELP a x\n# TYPE a counter\na -1\n",
		"bad value":          "# HELP a x\n# TYPE a gauge\na one\n",
		"bad escape":         "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n",
		"unterminated label": "# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n",
		"no +Inf":            head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"not cumulative":     head + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"le descending":      head + "h_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"count differs":      head + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
		"no sum":             head + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n",
		"summary no count":   "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",
		"quantile range":     "# HELP s x\n# TYPE s summary\ns{quantile=\"2\"} 1\ns_sum 1\ns_count 1\n",
		"series twice":       "# HELP a x\n# TYPE a gauge\na{l=\"x\",m=\"y\"} 1\na{m=\"y\",l=\"x\"} 2\n",
		"unlabelled twice":   "# HELP a x\n# TYPE a counter\na 1\na 1\n",
		"sum twice":          head + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_sum 1\nh_count 1\n",
		"quantile twice":     "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n",
	} {
		if err := Lint([]byte(text)); err == nil {
			t.Errorf("%s: Lint accepted\n%s", name, text)
		}
	}
}

// TestRuntimeFamilies: the Go runtime's, the process's and the pool's families carry the names
// Prometheus's Go client gives them, so dashboards and alerts keep working, and they are valid.
func TestRuntimeFamilies(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry()
	r.Collect(GoRuntime)
	r.Collect(Process)
	r.Collect(DBStats(db, "sqlite"))
	text := r.AppendText(nil)
	if err := Lint(text); err != nil {
		t.Fatalf("Lint: %v\n%s", err, text)
	}
	var names []string
	for line := range strings.SplitSeq(string(text), "\n") {
		if n, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, n)
		}
	}
	want := []string{
		"go_gc_duration_seconds summary", "go_gc_gogc_percent gauge", "go_gc_gomemlimit_bytes gauge",
		"go_goroutines gauge", "go_info gauge", "go_memstats_alloc_bytes gauge", "go_memstats_alloc_bytes_total counter",
		"go_memstats_buck_hash_sys_bytes gauge", "go_memstats_frees_total counter", "go_memstats_gc_sys_bytes gauge",
		"go_memstats_heap_alloc_bytes gauge", "go_memstats_heap_idle_bytes gauge", "go_memstats_heap_inuse_bytes gauge",
		"go_memstats_heap_objects gauge", "go_memstats_heap_released_bytes gauge", "go_memstats_heap_sys_bytes gauge",
		"go_memstats_last_gc_time_seconds gauge", "go_memstats_mallocs_total counter", "go_memstats_mcache_inuse_bytes gauge",
		"go_memstats_mcache_sys_bytes gauge", "go_memstats_mspan_inuse_bytes gauge", "go_memstats_mspan_sys_bytes gauge",
		"go_memstats_next_gc_bytes gauge", "go_memstats_other_sys_bytes gauge", "go_memstats_stack_inuse_bytes gauge",
		"go_memstats_stack_sys_bytes gauge", "go_memstats_sys_bytes gauge", "go_sched_gomaxprocs_threads gauge", "go_threads gauge",
		"go_sql_idle_connections gauge", "go_sql_in_use_connections gauge", "go_sql_max_idle_closed_total counter",
		"go_sql_max_idle_time_closed_total counter", "go_sql_max_lifetime_closed_total counter",
		"go_sql_max_open_connections gauge", "go_sql_open_connections gauge", "go_sql_wait_count_total counter",
		"go_sql_wait_duration_seconds_total counter",
		"process_start_time_seconds gauge",
	}
	if runtime.GOOS != "windows" { // the CPU time is read with getrusage or from /proc
		want = append(want, "process_cpu_seconds_total counter")
	}
	if runtime.GOOS == "linux" {
		want = append(want, "process_max_fds gauge", "process_network_receive_bytes_total counter",
			"process_network_transmit_bytes_total counter", "process_open_fds gauge", "process_resident_memory_bytes gauge",
			"process_virtual_memory_bytes gauge", "process_virtual_memory_max_bytes gauge")
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("no family %s", w)
		}
	}
	values := map[string]float64{}
	for line := range strings.SplitSeq(string(text), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			values[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	if rss := values["process_resident_memory_bytes"]; runtime.GOOS == "linux" && rss < 1<<20 {
		t.Errorf("process_resident_memory_bytes %v", rss)
	}
	if open := values[`go_sql_open_connections{db_name="sqlite"}`]; open != 1 {
		t.Errorf("go_sql_open_connections %v after one ping", open)
	}
	// The test binary started moments ago: the start time is neither in the future nor at boot.
	if start, now := values["process_start_time_seconds"], float64(time.Now().Unix()); start > now+1 || start < now-3600 {
		t.Errorf("process_start_time_seconds %v, now %v", start, now)
	}
	if cpu := values["process_cpu_seconds_total"]; runtime.GOOS != "windows" && cpu <= 0 {
		t.Errorf("process_cpu_seconds_total %v after the test's work", cpu)
	}
	if info := values[`go_info{version="`+runtime.Version()+`"}`]; info != 1 {
		t.Errorf("go_info of %s is %v", runtime.Version(), info)
	}
	if g := values["go_goroutines"]; g < 1 {
		t.Errorf("go_goroutines %v", g)
	}
	if alloc := values["go_memstats_alloc_bytes_total"]; alloc < values["go_memstats_heap_alloc_bytes"] || alloc == 0 {
		t.Errorf("go_memstats_alloc_bytes_total %v below heap in use %v", alloc, values["go_memstats_heap_alloc_bytes"])
	}
}

// TestConcurrentUse counts and observes from several goroutines while the text is written:
// nothing is lost, and the totals come out exact once the writers are done.
func TestConcurrentUse(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("c_total", "c.", "w")
	h := r.NewHistogramVec("h_seconds", "h.", []float64{0.5}, "w")
	const workers, each = 4, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			label := strconv.Itoa(w % 2)
			for i := range each {
				c.With(label).Inc()
				h.With(label).Observe(float64(i%2) * 0.75)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := Lint(r.AppendText(nil)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	text := string(r.AppendText(nil))
	for _, want := range []string{
		`c_total{w="0"} 2000`, `c_total{w="1"} 2000`,
		`h_seconds_bucket{w="0",le="0.5"} 1000`, `h_seconds_bucket{w="0",le="+Inf"} 2000`,
		`h_seconds_sum{w="1"} 750`, `h_seconds_count{w="1"} 2000`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %s in\n%s", want, text)
		}
	}
}

func TestRegistrationMistakesPanic(t *testing.T) {
	for name, f := range map[string]func(r *Registry){
		"twice":          func(r *Registry) { r.GaugeFunc("a", "a", nil); r.CounterFunc("a", "a", nil) },
		"bad name":       func(r *Registry) { r.GaugeFunc("a-b", "a", nil) },
		"bad label":      func(r *Registry) { r.NewCounterVec("a", "a", "__x") },
		"le label":       func(r *Registry) { r.NewHistogramVec("a", "a", []float64{1}, "le") },
		"label twice":    func(r *Registry) { r.NewCounterVec("a", "a", "x", "x") },
		"buckets":        func(r *Registry) { r.NewHistogramVec("a", "a", []float64{2, 1}) },
		"values missing": func(r *Registry) { r.NewCounterVec("a", "a", "x", "y").With("1") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

// TestInvalidUTF8LabelValue: a label value that is not UTF-8 is written with U+FFFD, so the
// text stays valid.
func TestInvalidUTF8LabelValue(t *testing.T) {
	r := NewRegistry()
	r.NewCounterVec("c_total", "c.", "v").With("a\xffb").Inc()
	if got, want := string(r.AppendText(nil)), "c_total{v=\"a\uFFFDb\"} 1\n"; !strings.HasSuffix(got, want) {
		t.Fatalf("got %q, want it to end %q", got, want)
	}
}

// TestLabelValuesKeyTheirSeries: values holding the key's separator byte (0xFF) stay apart, and
// values written alike once made valid UTF-8 count in one series, not two duplicate lines.
func TestLabelValuesKeyTheirSeries(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("c_total", "c.", "a", "b")
	c.With("x\xffy", "z").Inc()
	c.With("x", "y\xffz").Inc()
	c.With("p\xfeq", "r").Inc()
	c.With("p\xffq", "r").Inc()
	text := r.AppendText(nil)
	want := "# HELP c_total c.\n# TYPE c_total counter\n" +
		"c_total{a=\"p\uFFFDq\",b=\"r\"} 2\n" +
		"c_total{a=\"x\",b=\"y\uFFFDz\"} 1\n" +
		"c_total{a=\"x\uFFFDy\",b=\"z\"} 1\n"
	if string(text) != want {
		t.Fatalf("got\n%s\nwant\n%s", text, want)
	}
	if err := Lint(text); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerGzip(t *testing.T) {
	r := NewRegistry()
	r.GaugeFunc("g", "g.", func() float64 { return 1 })
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	const want = "# HELP g g.\n# TYPE g gauge\ng 1\n"
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{{"", false}, {"gzip", true}, {"br, gzip;q=0.5", true}, {"gzip;q=0", false}, {"identity", false}} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Encoding", tc.accept)
		}
		// A transport that leaves compression alone, so the answer is seen as sent.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body := io.Reader(resp.Body)
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.accept, got, tc.gzip)
		}
		if tc.gzip {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := io.ReadAll(body)
		resp.Body.Close()
		if string(b) != want || resp.Header.Get("Content-Type") != ContentType {
			t.Errorf("Accept-Encoding %q: %q %q", tc.accept, resp.Header.Get("Content-Type"), b)
		}
	}
}
