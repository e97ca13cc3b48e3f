package loadtest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// verdict is the word printed beside a figure and its target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func (m Machine) String() string {
	return fmt.Sprintf("%s, %s, %d CPUs, %s, kernel %s", m.Date, m.OS, m.CPUs, m.Go, m.Kernel)
}

// WriteText writes the report as aligned plain text: each figure beside its target.
func (r *ScaleReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("vippsmgmt scale\t%s", r.Machine)
	p("seed\t%d sales units in %.2f s (%.0f/s)", r.Units, r.SeedSeconds, float64(r.Units)/r.SeedSeconds)
	st := r.Startup
	p("")
	p("start-up on a fresh database\tmedian %.0f ms (runs %s ms), CPU %.0f ms\ttarget < %.0f ms\t%s", st.MedianWallMs,
		joinRates(st.WallMs), st.MedianCPUMs, st.Target, verdict(st.Pass))
	p("idle RSS after start-up\t%.1f MiB\ttarget < %.0f MiB\t%s", mib(st.MedianIdleRSS), mib(st.TargetRSS), verdict(st.PassRSS))
	p("  restarted on the same database\t%.1f MiB", mib(st.MedianIdleRSSRestart))
	p("  anonymous (heap, stacks, SQLite), fresh / restarted\t%.1f / %.1f MiB", mib(st.MedianIdleAnon), mib(st.MedianIdleAnonRestart))
	g := r.Get
	p("")
	p("GET /management/v1/sales-units/{msn}\t%d connections, %d x %.1f s per side, %d-byte answer", g.Conns, g.Rounds, g.PhaseSeconds, g.Bytes)
	p("  authenticated (classic token)\t%.0f req/s\trounds %s", g.AuthRPS, joinRates(g.AuthRounds))
	p("  bare net/http handler\t%.0f req/s\trounds %s", g.BareRPS, joinRates(g.BareRounds))
	p("  ratio\t%.3f\ttarget >= %.2f\t%s\trounds %s", g.Ratio, g.Target, verdict(g.Pass), joinRatios(g.RoundRatios))
	if g.BareCPU > 0 {
		p("  server CPU per request\tauthenticated %.1f µs, bare %.1f µs", g.AuthCPU, g.BareCPU)
		p("  load generator CPU per request\tauthenticated %.1f µs, bare %.1f µs", g.AuthGenCPU, g.BareGenCPU)
		p("  ratio of CPU per request\t%.3f\t(what an otherwise idle machine would show)", g.CPURatio)
	}
	if g.Errors > 0 {
		p("  errors\t%d\tfirst: %s", g.Errors, strings.Join(g.FirstErrors, "; "))
	}
	in := r.Instr
	if in.Skipped != "" {
		p("  instructions per request	not counted: %s", in.Skipped)
	} else {
		p("  instructions per request	authenticated %.0f, bare %.0f	%s, %d requests over %d connections", in.Auth, in.Bare, in.Tool, in.Requests, in.Conns)
		p("  \tcounted %.0f and %.0f, less %.0f and %.0f executed in as long a time without requests", in.AuthRaw, in.BareRaw, in.AuthIdle, in.BareIdle)
		p("  ratio of instructions	%.3f	target <= %.2f	%s", in.Ratio, in.Target, verdict(in.Pass))
		if in.Errors > 0 {
			p("  errors	%d	first: %s", in.Errors, strings.Join(in.FirstErrors, "; "))
		}
	}
	for _, l := range []ListReport{r.List, r.OrderList} {
		p("")
		p("GET %s\t%d items, %d bytes, %d runs", l.Path, l.Units, l.Bytes, l.Runs)
		p("  time\tfirst %.3f s, best %.3f s", l.FirstSeconds, l.BestSeconds)
		p("  server RSS\tbefore %.1f MiB, peak %.1f MiB", mib(l.RSSBefore), mib(l.RSSPeak))
		p("  extra RSS\t%.1f MiB\ttarget < %.0f MiB\t%s", mib(l.ExtraRSS), mib(l.Target), verdict(l.Pass))
	}
	p("")
	writePrefills(p, r.Prefill)
	if so := r.ScaleOut; so != nil {
		p("")
		so.write(p)
	}
	p("")
	p("overall\t%s", verdict(r.Pass()))
	return tw.Flush()
}

// writePrefills writes the prefill figures of a scale run.
func writePrefills(p func(string, ...any), prefills []PrefillReport) {
	p("POST /management/v1/product-orders\t(distinct Idempotency-Keys)")
	for _, pr := range prefills {
		target := "no target"
		if pr.Target > 0 {
			target = fmt.Sprintf("target >= %.0f/s", pr.Target)
		}
		p("  %s\t%.0f/s\t%s\t%s\t%d workers, %d in %.1f s, %d errors, server CPU %.0f µs each", pr.Backend, pr.PerSecond,
			target, verdict(pr.Pass), pr.Workers, pr.Created, pr.Seconds, pr.Errors, pr.ServerCPU)
		if pr.BareTarget > 0 {
			p("    bare loop, one transaction per insert\t%.0f/s\tsame statements, driver and pragmas, same disk; rounds %s (server %s)",
				pr.BareLoop, joinRates(pr.BareRounds), joinRates(pr.Rounds))
			p("    prefills/s vs the bare loop\t%.3f\ttarget >= %.2f\t%s", pr.BareRatio, pr.BareTarget, verdict(pr.PassBare))
		}
		if pr.CPUTarget > 0 {
			p("    server CPU per prefill\t%.0f µs\ttarget <= %.0f µs\t%s", pr.ServerCPU, pr.CPUTarget, verdict(pr.PassCPU))
		}
		if pr.PerTransaction > 0 {
			p("    prefills per transaction\t%.1f\t(group commit)", pr.PerTransaction)
		}
		if pr.Note != "" {
			p("  \t\t%s", pr.Note)
		}
		if len(pr.FirstErrors) > 0 {
			p("    first errors\t%s", strings.Join(pr.FirstErrors, "; "))
		}
	}
}

// WriteText writes the prefill report as aligned plain text: each figure beside its target.
func (r *PrefillRunReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("vippsmgmt prefill\t%s", r.Machine)
	writePrefills(p, r.Prefill)
	p("")
	p("overall\t%s", verdict(r.Pass()))
	return tw.Flush()
}

func joinRatios(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%.3f", r)
	}
	return strings.Join(s, ", ")
}

func joinRates(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%.0f", r)
	}
	return strings.Join(s, ", ")
}

// WriteText writes the soak report as aligned plain text.
func (r *SoakReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("vippsmgmt soak\t%s", r.Machine)
	p("load\t%s, %d req/s for %.1f s over the mix, %d partners with %d sales units each", r.Backend, r.Rate, r.Seconds,
		r.Partners, r.Units)
	p("requests\t%d (%.1f req/s)", r.Requests, r.RPS)
	p("")
	p("kind\tshare\tcount\tp50 ms\tp99 ms\tmax ms\terrors")
	for _, m := range Mix {
		k := r.Kinds[m.Kind]
		p("%s\t%d%%\t%d\t%.2f\t%.2f\t%.1f\t%d", m.Kind, m.Weight, k.Count, k.P50, k.P99, k.Max, k.Errors)
	}
	p("all\t100%%\t%d\t%.2f\t%.2f\t%.1f\t%d", r.Overall.Count, r.Overall.P50, r.Overall.P99, r.Overall.Max, r.Errors)
	p("")
	p("errors\t%d\ttarget 0\t%s", r.Errors, verdict(r.Errors == 0))
	for _, e := range r.FirstErrors {
		p("  \t%s", e)
	}
	p("server RSS\tidle %.1f MiB, start %.1f MiB, end %.1f MiB, max %.1f MiB", mib(r.RSSIdle), mib(r.RSSStart), mib(r.RSSEnd), mib(r.RSSMax))
	if len(r.RSSSamples) > 0 {
		samples := make([]string, len(r.RSSSamples))
		for i, v := range r.RSSSamples {
			samples[i] = fmt.Sprintf("%.1f", mib(v))
		}
		p("RSS samples (MiB)\t%s", strings.Join(samples, " "))
	}
	p("RSS growth\t%+.1f MiB\ttarget < %.0f MiB\t%s", float64(r.Growth)/(1<<20), float64(r.Target)/(1<<20), verdict(r.Growth < r.Target))
	if r.ServerCPU > 0 {
		p("server CPU per request\t%.1f µs", r.ServerCPU)
	}
	p("server log ERROR lines\t%d", r.LogErrorLines)
	p("")
	p("overall\t%s", verdict(r.Pass))
	return tw.Flush()
}
