package loadtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
)

// Targets of the start-up measurement.
const (
	TargetStartup = 100 * time.Millisecond // fresh database to a healthy server
	TargetIdleRSS = 25 << 20               // bytes, a second after start-up
)

// StartupReport is how long `vippsmgmt serve` takes from exec to a healthy /healthz on a fresh
// SQLite database (migrations, demo data, no signing key yet), its CPU time meanwhile, and its
// resident memory once idle; medians of several starts. The judged idle RSS is the fresh start's;
// a restart on the same database (what a server's later starts are) is shown beside it.
type StartupReport struct {
	Runs          int       `json:"runs"`
	WallMs        []float64 `json:"wallMs"`
	MedianWallMs  float64   `json:"medianWallMs"`
	MedianCPUMs   float64   `json:"medianCpuMs"`
	MedianIdleRSS uint64    `json:"medianIdleRssBytes"`
	// MedianIdleRSSRestart is the idle RSS of a second start on the same, migrated database.
	MedianIdleRSSRestart uint64 `json:"medianIdleRssRestartBytes"`
	// The anonymous part of each (RssAnon: heap, stacks, SQLite's allocator); the rest is mostly
	// the executable's pages.
	MedianIdleAnon        uint64  `json:"medianIdleAnonBytes"`
	MedianIdleAnonRestart uint64  `json:"medianIdleAnonRestartBytes"`
	Target                float64 `json:"targetMs"`
	TargetRSS             uint64  `json:"targetIdleRssBytes"`
	Pass                  bool    `json:"pass"`
	PassRSS               bool    `json:"passRss"`
}

// measureStartup starts the server runs times, each on a fresh database.
func measureStartup(ctx context.Context, cfg ScaleConfig, runs int, logf func(string, ...any)) (StartupReport, error) {
	rep := StartupReport{Runs: runs, Target: float64(TargetStartup.Milliseconds()), TargetRSS: TargetIdleRSS}
	var cpu []float64
	var rss, restartRSS, anon, restartAnon []uint64
	for i := range runs {
		dsn := "sqlite:" + filepath.Join(cfg.Dir, fmt.Sprintf("startup-%d.db", i))
		start := time.Now()
		p, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn})
		if err != nil {
			return rep, err
		}
		wall := time.Since(start)
		c, _ := ReadCPU(p.PID)
		m, err := idleMem(p)
		if err != nil {
			return rep, err
		}
		rep.WallMs = append(rep.WallMs, round1(float64(wall.Microseconds())/1000))
		cpu = append(cpu, float64(c.Milliseconds()))
		rss, anon = append(rss, m.RSS), append(anon, m.Anon)
		if p, err = StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn}); err != nil {
			return rep, err
		}
		if m, err = idleMem(p); err != nil {
			return rep, err
		}
		restartRSS, restartAnon = append(restartRSS, m.RSS), append(restartAnon, m.Anon)
	}
	rep.MedianWallMs = median(rep.WallMs)
	rep.MedianCPUMs = median(cpu)
	rep.MedianIdleRSS, rep.MedianIdleRSSRestart = median(rss), median(restartRSS)
	rep.MedianIdleAnon, rep.MedianIdleAnonRestart = median(anon), median(restartAnon)
	rep.Pass = rep.MedianWallMs < rep.Target
	rep.PassRSS = rep.MedianIdleRSS < rep.TargetRSS
	logf("start-up: median %.0f ms (CPU %.0f ms), idle RSS %.1f MiB (%.1f MiB restarted on the same database)",
		rep.MedianWallMs, rep.MedianCPUMs, mib(rep.MedianIdleRSS), mib(rep.MedianIdleRSSRestart))
	return rep, nil
}

// idleMem stops p once it is idle (the signing key generated after start-up and the first sweep
// done, a second after it answered) and returns its memory at that moment.
func idleMem(p *Process) (Mem, error) {
	time.Sleep(time.Second)
	m, err := p.Mem()
	_ = p.Stop()
	return m, err
}

// RunStartup is the start-up part of RunScale alone: cfg.StartupRuns starts on fresh databases.
func RunStartup(ctx context.Context, cfg ScaleConfig) (*StartupReport, error) {
	cfg.SetDefaults()
	logf := progressf(cfg.Progress)
	rep, err := measureStartup(ctx, cfg, cfg.StartupRuns, logf)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// WriteText writes the start-up time and idle RSS beside their targets.
func (r *StartupReport) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "start-up on a fresh database: median %.0f ms (runs %s ms), CPU %.0f ms, target < %.0f ms: %s\n"+
		"idle RSS after start-up: %.1f MiB, target < %.0f MiB: %s (restarted on the same database: %.1f MiB)\n"+
		"  of which anonymous (heap, stacks, SQLite): %.1f MiB (restarted: %.1f MiB); the rest is mostly the executable's pages\n",
		r.MedianWallMs, joinRates(r.WallMs), r.MedianCPUMs, r.Target, verdict(r.Pass), mib(r.MedianIdleRSS), mib(r.TargetRSS), verdict(r.PassRSS),
		mib(r.MedianIdleRSSRestart), mib(r.MedianIdleAnon), mib(r.MedianIdleAnonRestart))
	return err
}

// median is the middle value of v (the upper of the two middle ones when there are as many).
func median[T cmp.Ordered](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
