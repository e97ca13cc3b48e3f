package metrics

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/vippsmgmt/vippsmgmt/internal/cputime"
)

// userHZ is the unit of the start time in /proc/PID/stat: USER_HZ is 100 on every Linux
// architecture Go supports.
const userHZ = 100

// Process reports this process's families under the names Prometheus's Go client gives them
// (process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds, ...),
// read from /proc/self. A figure that cannot be read is left out.
func Process() []Family {
	var out []Family
	gauge := func(name, help string, value float64) { out = append(out, single(TypeGauge, name, help, value)) }
	counter := func(name, help string, value float64) { out = append(out, single(TypeCounter, name, help, value)) }
	// getrusage counts in microseconds where /proc/self/stat counts in ticks of 10 ms.
	if cpu := cputime.Process(); cpu > 0 {
		counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu.Seconds())
	}
	if st, ok := readStat(); ok {
		gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", float64(st.vsize))
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(st.rss*uint64(os.Getpagesize())))
		if boot, ok := bootTime(); ok {
			gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(boot)+float64(st.starttime)/userHZ)
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	if limits, err := os.ReadFile("/proc/self/limits"); err == nil {
		if v, ok := softLimit(limits, "Max open files"); ok {
			gauge("process_max_fds", "Maximum number of open file descriptors.", v)
		}
		if v, ok := softLimit(limits, "Max address space"); ok {
			gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", v)
		}
	}
	if netstat, err := os.ReadFile("/proc/self/net/netstat"); err == nil {
		in, out, ok := ipOctets(netstat)
		if ok {
			counter("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", in)
			counter("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", out)
		}
	}
	return out
}

type procStat struct {
	starttime, vsize, rss uint64
}

// readStat reads the fields of /proc/self/stat that Process reports (proc(5)).
func readStat() (procStat, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, false
	}
	// The command name, in parentheses, may itself hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state) of proc(5).
	field := func(n int) uint64 {
		if n-3 >= len(f) {
			return 0
		}
		v, _ := strconv.ParseUint(f[n-3], 10, 64)
		return v
	}
	if len(f) < 22 {
		return procStat{}, false
	}
	return procStat{starttime: field(22), vsize: field(23), rss: field(24)}, true
}

// bootTime is the system's boot time in seconds since the epoch, from /proc/stat. It does not
// change while the process runs, so /proc/stat, which grows with the number of CPUs, is read once
// rather than on every scrape.
var bootTime = sync.OnceValues(readBootTime)

func readBootTime() (uint64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// softLimit reads a soft limit from /proc/self/limits; unlimited is the largest uint64, as
// Prometheus's client reports it.
func softLimit(limits []byte, name string) (float64, bool) {
	for line := range strings.SplitSeq(string(limits), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		if f[0] == "unlimited" {
			return math.MaxUint64, true
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		return float64(n), err == nil
	}
	return 0, false
}

// ipOctets reads InOctets and OutOctets of the IpExt lines of /proc/self/net/netstat: a line of
// names followed by a line of values.
func ipOctets(netstat []byte) (in, out float64, ok bool) {
	lines := strings.Split(string(netstat), "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, ok1 := strings.CutPrefix(lines[i], "IpExt:")
		values, ok2 := strings.CutPrefix(lines[i+1], "IpExt:")
		if !ok1 || !ok2 {
			continue
		}
		n, v := strings.Fields(names), strings.Fields(values)
		var found int
		for j := range min(len(n), len(v)) {
			x, err := strconv.ParseFloat(v[j], 64)
			if err != nil {
				continue
			}
			switch n[j] {
			case "InOctets":
				in, found = x, found+1
			case "OutOctets":
				out, found = x, found+1
			}
		}
		return in, out, found == 2
	}
	return 0, 0, false
}
