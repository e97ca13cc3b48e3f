package metrics

import (
	"database/sql"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The runtime/metrics samples GoRuntime reads, in this order.
var runtimeSampleNames = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/heap/frees:objects",
	"/gc/heap/tiny/allocs:objects",
	"/gc/heap/goal:bytes",
	"/gc/heap/objects:objects",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/metadata/mcache/free:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/mspan/free:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/other:bytes",
	"/memory/classes/profiling/buckets:bytes",
	"/memory/classes/total:bytes",
	"/sched/gomaxprocs:threads",
}

// GoRuntime reports the Go runtime's families under the names and meanings Prometheus's Go
// client gives them (go_goroutines, go_threads, go_info, go_gc_duration_seconds, go_memstats_*,
// go_gc_gogc_percent, go_gc_gomemlimit_bytes, go_sched_gomaxprocs_threads), so existing
// dashboards keep working. The go_memstats_* figures come from runtime/metrics, which does not
// stop the world as runtime.ReadMemStats does.
func GoRuntime() []Family {
	samples := make([]metrics.Sample, len(runtimeSampleNames))
	for i, n := range runtimeSampleNames {
		samples[i].Name = n
	}
	metrics.Read(samples)
	v := make(map[string]float64, len(samples))
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			v[s.Name] = float64(s.Value.Uint64())
		case metrics.KindFloat64:
			v[s.Name] = s.Value.Float64()
		}
	}
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	var lastGC float64
	if !gc.LastGC.IsZero() {
		lastGC = float64(gc.LastGC.UnixNano()) / 1e9
	}
	threads, _ := runtime.ThreadCreateProfile(nil)

	heapObjects := v["/memory/classes/heap/objects:bytes"]
	heapInuse := heapObjects + v["/memory/classes/heap/unused:bytes"]
	heapIdle := v["/memory/classes/heap/released:bytes"] + v["/memory/classes/heap/free:bytes"]
	tiny := v["/gc/heap/tiny/allocs:objects"]
	gauge := func(name, help string, value float64) Family { return single(TypeGauge, name, help, value) }
	counter := func(name, help string, value float64) Family { return single(TypeCounter, name, help, value) }
	pause := Family{Name: "go_gc_duration_seconds", Type: TypeSummary,
		Help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."}
	for i, q := range gc.PauseQuantiles {
		pause.Samples = append(pause.Samples, Sample{Labels: []Label{{"quantile", string(appendValue(nil, float64(i)/4))}}, Value: q.Seconds()})
	}
	pause.Samples = append(pause.Samples,
		Sample{Suffix: "_sum", Value: gc.PauseTotal.Seconds()}, Sample{Suffix: "_count", Value: float64(gc.NumGC)})
	return []Family{
		pause,
		gauge("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.",
			v["/gc/gogc:percent"]),
		gauge("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.",
			v["/gc/gomemlimit:bytes"]),
		gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
		single(TypeGauge, "go_info", "Information about the Go environment.", 1, Label{"version", runtime.Version()}),
		gauge("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", heapObjects),
		counter("go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.",
			v["/gc/heap/allocs:bytes"]),
		gauge("go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.",
			v["/memory/classes/profiling/buckets:bytes"]),
		counter("go_memstats_frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.",
			v["/gc/heap/frees:objects"]+tiny),
		gauge("go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.",
			v["/memory/classes/metadata/other:bytes"]),
		gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", heapObjects),
		gauge("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", heapIdle),
		gauge("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", heapInuse),
		gauge("go_memstats_heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", v["/gc/heap/objects:objects"]),
		gauge("go_memstats_heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.",
			v["/memory/classes/heap/released:bytes"]),
		gauge("go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
			heapInuse+heapIdle),
		gauge("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", lastGC),
		counter("go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
			v["/gc/heap/allocs:objects"]+tiny),
		gauge("go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.",
			v["/memory/classes/metadata/mcache/inuse:bytes"]),
		gauge("go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.",
			v["/memory/classes/metadata/mcache/inuse:bytes"]+v["/memory/classes/metadata/mcache/free:bytes"]),
		gauge("go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.",
			v["/memory/classes/metadata/mspan/inuse:bytes"]),
		gauge("go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.",
			v["/memory/classes/metadata/mspan/inuse:bytes"]+v["/memory/classes/metadata/mspan/free:bytes"]),
		gauge("go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", v["/gc/heap/goal:bytes"]),
		gauge("go_memstats_other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", v["/memory/classes/other:bytes"]),
		gauge("go_memstats_stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.",
			v["/memory/classes/heap/stacks:bytes"]),
		gauge("go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.",
			v["/memory/classes/heap/stacks:bytes"]+v["/memory/classes/os-stacks:bytes"]),
		gauge("go_memstats_sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", v["/memory/classes/total:bytes"]),
		gauge("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.",
			v["/sched/gomaxprocs:threads"]),
		gauge("go_threads", "Number of OS threads created.", float64(threads)),
	}
}

// DBStats reports a connection pool's figures under the names Prometheus's Go client gives
// them (go_sql_*), labelled db_name.
func DBStats(db *sql.DB, name string) func() []Family {
	return func() []Family {
		s := db.Stats()
		db := Label{"db_name", name}
		one := func(n, help string, t Type, value float64) Family { return single(t, n, help, value, db) }
		return []Family{
			one("go_sql_idle_connections", "The number of idle connections.", TypeGauge, float64(s.Idle)),
			one("go_sql_in_use_connections", "The number of connections currently in use.", TypeGauge, float64(s.InUse)),
			one("go_sql_max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns.", TypeCounter, float64(s.MaxIdleClosed)),
			one("go_sql_max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime.", TypeCounter, float64(s.MaxIdleTimeClosed)),
			one("go_sql_max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime.", TypeCounter, float64(s.MaxLifetimeClosed)),
			one("go_sql_max_open_connections", "Maximum number of open connections to the database.", TypeGauge, float64(s.MaxOpenConnections)),
			one("go_sql_open_connections", "The number of established connections both in use and idle.", TypeGauge, float64(s.OpenConnections)),
			one("go_sql_wait_count_total", "The total number of connections waited for.", TypeCounter, float64(s.WaitCount)),
			one("go_sql_wait_duration_seconds_total", "The total time blocked waiting for a new connection.", TypeCounter, s.WaitDuration.Seconds()),
		}
	}
}
