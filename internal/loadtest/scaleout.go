package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Targets of the scale-out figure: the work a request costs must not grow with a second process.
const (
	TargetScaleOutRead    = 1.0  // server CPU per GET with two processes / with one
	TargetScaleOutPrefill = 1.10 // server CPU per prefill with two processes / with one
)

// ScaleOutReport is server CPU per request with one and with two server processes on one
// PostgreSQL database, the load spread evenly over the processes. On a 2-core machine a second
// process cannot add throughput (one already fills both cores); what it shows is whether a
// request costs more when processes share the database, which is what a machine with more cores
// would multiply.
type ScaleOutReport struct {
	Workers      int      `json:"workers"`
	Seconds      float64  `json:"seconds"`
	ReadCPU1     float64  `json:"readCpuUsOneProcess"`
	ReadCPU2     float64  `json:"readCpuUsTwoProcesses"`
	ReadRPS1     float64  `json:"readRpsOneProcess"`
	ReadRPS2     float64  `json:"readRpsTwoProcesses"`
	PrefillCPU1  float64  `json:"prefillCpuUsOneProcess"`
	PrefillCPU2  float64  `json:"prefillCpuUsTwoProcesses"`
	PrefillRPS1  float64  `json:"prefillRpsOneProcess"`
	PrefillRPS2  float64  `json:"prefillRpsTwoProcesses"`
	ReadRatio    float64  `json:"readCpuRatio"`
	PrefillRatio float64  `json:"prefillCpuRatio"`
	PassRead     bool     `json:"passRead"`
	PassPrefill  bool     `json:"passPrefill"`
	Errors       int      `json:"errors"`
	FirstErrors  []string `json:"firstErrors,omitempty"`
}

// RunScaleOut measures GET /management/v1/sales-units/{msn} and prefills against one server
// process on dsn, then against two, and compares the server CPU per request.
func RunScaleOut(ctx context.Context, cfg ScaleConfig, dsn string) (*ScaleOutReport, error) {
	cfg.defaults()
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	// Numbered past the units other runs seed on the same database.
	seeds, err := seedPartners(ctx, dsn, []string{"load-partner-scaleout"}, 100, 900_000_000)
	if err != nil {
		return nil, err
	}
	seed := seeds[0]
	rep := &ScaleOutReport{Workers: cfg.PrefillWorkers, Seconds: cfg.Prefill.Seconds()}
	var errs errorLog
	run := func(n int) (readCPU, readRPS, prefillCPU, prefillRPS float64, err error) {
		var procs []*Process
		defer func() {
			for _, p := range procs {
				_ = p.Stop()
			}
		}()
		for i := range n {
			p, err := StartServer(ctx, ServerConfig{Bin: cfg.Bin, DB: dsn, LogPath: cfg.logPath(fmt.Sprintf("scaleout-%d-%d", n, i))})
			if err != nil {
				return 0, 0, 0, 0, err
			}
			procs = append(procs, p)
		}
		client := newClient(cfg.PrefillWorkers + 2)
		defer client.CloseIdleConnections()
		tok, err := classicToken(ctx, client, procs[0].URL, seed.Keys)
		if err != nil {
			return 0, 0, 0, 0, err
		}
		hdr := authHeader(tok, seed.Keys)
		cpu := func() time.Duration {
			var total time.Duration
			for _, p := range procs {
				c, _ := ReadCPU(p.PID)
				total += c
			}
			return total
		}
		get := func(w, _ int) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, procs[w%n].URL+"/management/v1/sales-units/"+seed.FirstMSN, nil)
			req.Header = hdr.Clone()
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			drain(resp)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET sales unit on %d processes: %d", n, resp.StatusCode)
			}
			return nil
		}
		post := func(w, i int) error {
			_, err := prefill(ctx, client, procs[w%n].URL, hdr, fmt.Sprintf("%s-scaleout-%d-%d-%d", runID, n, w, i))
			return err
		}
		closedLoop(cfg.PrefillWorkers, min(cfg.Prefill/4, time.Second), get) // warm-up
		c0 := cpu()
		r := closedLoop(cfg.PrefillWorkers, cfg.Prefill, get)
		c1 := cpu()
		p := closedLoop(cfg.PrefillWorkers, cfg.Prefill, post)
		c2 := cpu()
		for _, res := range []closedLoopResult{r, p} {
			for _, e := range res.First {
				errs.add("%s", e)
			}
			rep.Errors += res.Errors
		}
		perReq := func(d time.Duration, n int64) float64 {
			if n == 0 {
				return 0
			}
			return round1(float64(d.Microseconds()) / float64(n))
		}
		logf("scale-out, %d process(es): GET %.0f/s, prefill %.0f/s", n, r.rate(), p.rate())
		return perReq(c1-c0, r.Requests), round1(r.rate()), perReq(c2-c1, p.Requests), round1(p.rate()), nil
	}
	if rep.ReadCPU1, rep.ReadRPS1, rep.PrefillCPU1, rep.PrefillRPS1, err = run(1); err != nil {
		return nil, err
	}
	if rep.ReadCPU2, rep.ReadRPS2, rep.PrefillCPU2, rep.PrefillRPS2, err = run(2); err != nil {
		return nil, err
	}
	_, rep.FirstErrors = errs.snapshot()
	if rep.ReadCPU1 > 0 && rep.PrefillCPU1 > 0 {
		rep.ReadRatio = round3(rep.ReadCPU2 / rep.ReadCPU1)
		rep.PrefillRatio = round3(rep.PrefillCPU2 / rep.PrefillCPU1)
	}
	// CPU time is read in 10 ms ticks; a ratio within 5 % of the target is within that error.
	rep.PassRead = rep.Errors == 0 && rep.ReadRatio > 0 && rep.ReadRatio <= TargetScaleOutRead*1.05
	rep.PassPrefill = rep.Errors == 0 && rep.PrefillRatio > 0 && rep.PrefillRatio <= TargetScaleOutPrefill
	return rep, nil
}
