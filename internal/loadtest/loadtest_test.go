package loadtest

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// serverBin is the binary under test: $VIPPSMGMT_SERVER_BIN, or cmd/vippsmgmt built into dir.
func serverBin(t *testing.T, dir string) string {
	t.Helper()
	if bin := os.Getenv("VIPPSMGMT_SERVER_BIN"); bin != "" {
		return bin
	}
	bin, err := BuildServer(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestLoad runs scale and soak at a small size against a real server process. It checks only
// that they work and every answer is right; timing figures belong to `make bench` and `make soak`.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := serverBin(t, t.TempDir())
	small := ScaleConfig{Bin: bin, Units: 2000, Conns: 4, Phase: 300 * time.Millisecond, Rounds: 1, ListRuns: 1,
		PrefillWorkers: 4, Prefill: 400 * time.Millisecond, Orders: 500, StartupRuns: 1}

	t.Run("scale", func(t *testing.T) {
		cfg := small
		cfg.Dir = t.TempDir()
		rep, err := RunScale(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Get.Errors != 0 || rep.Get.AuthRPS <= 0 || rep.Get.BareRPS <= 0 {
			t.Errorf("GET: %d errors, %v authenticated, %v bare req/s; first: %v", rep.Get.Errors, rep.Get.AuthRPS,
				rep.Get.BareRPS, rep.Get.FirstErrors)
		}
		// measureList has checked the array element by element.
		if rep.List.Units != 2000 || rep.List.RSSPeak == 0 {
			t.Errorf("list: %+v", rep.List)
		}
		if rep.OrderList.Units != 500 || rep.OrderList.Bytes == 0 {
			t.Errorf("order list: %+v", rep.OrderList)
		}
		if len(rep.Prefill) != 1 || rep.Prefill[0].Errors != 0 || rep.Prefill[0].Created == 0 {
			t.Errorf("prefill: %+v", rep.Prefill)
		} else if p := rep.Prefill[0]; p.BareLoop <= 0 || p.BareRatio <= 0 || p.PerTransaction < 1 || p.ServerCPU <= 0 {
			t.Errorf("prefill against the bare loop: %+v", p)
		}
		logReport(t, rep)
	})

	t.Run("prefill-postgres", func(t *testing.T) {
		cfg := small
		cfg.Dir = t.TempDir()
		p, err := RunPrefill(ctx, cfg, pgtest.DSN(t), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		if p.Errors != 0 || p.Created == 0 {
			t.Errorf("prefill: %+v", p)
		}
	})

	t.Run("scale-out-postgres", func(t *testing.T) {
		cfg := small
		cfg.Dir = t.TempDir()
		cfg.InstrRequests = -1 // three server starts under callgrind: for `vippsmgmt-load scaleout`, not the suite
		// On the database a prefill run already seeded, as RunScale does.
		dsn := pgtest.DSN(t)
		if _, err := RunPrefill(ctx, cfg, dsn, "postgres"); err != nil {
			t.Fatal(err)
		}
		rep, err := RunScaleOut(ctx, cfg, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("scale-out: %+v", rep)
		for _, r := range []ScaleOutRun{rep.One, rep.Split, rep.Unsplit} {
			if rep.Errors != 0 || r.ReadRPS == 0 || r.PrefillRPS == 0 || r.ReadCPU == 0 || r.PrefillCPU == 0 {
				t.Errorf("scale-out: %+v", rep)
			}
			// Each GET reads its request and writes its answer and its query at least.
			if c := r.ReadSyscalls; rep.SyscallsSkipped == "" && (c.Read < 1 || c.Write < 2 || c.Total < c.Read+c.Write) {
				t.Errorf("syscalls per GET with %d process(es): %+v", r.Processes, c)
			}
		}
		if rep.SyscallsSkipped != "" {
			t.Logf("syscalls not counted: %s", rep.SyscallsSkipped)
		}
		logReport(t, rep)
	})

	t.Run("soak", func(t *testing.T) {
		rep, err := RunSoak(ctx, SoakConfig{Bin: bin, Dir: t.TempDir(), Duration: 2 * time.Second, Rate: 50,
			Units: 200, SampleEvery: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Errors != 0 || rep.LogErrorLines != 0 {
			t.Errorf("%d errors, %d ERROR lines in the server log; first: %v", rep.Errors, rep.LogErrorLines, rep.FirstErrors)
		}
		for _, m := range Mix {
			if rep.Kinds[m.Kind].Count == 0 && rep.Kinds[m.Kind].Errors == 0 {
				t.Errorf("no %s requests were sent", m.Kind)
			}
		}
		if rep.RSSStart == 0 || rep.RSSEnd == 0 {
			t.Errorf("RSS not read: %+v", rep)
		}
		logReport(t, rep)
	})

	// The hostile mix in a short form: the legitimate client must never fail and the server's
	// RSS must stay under the documented bound. The bound is a memory figure, not a timing one, and
	// some four times what the mix needs, so a loaded machine does not make it flake.
	t.Run("hostile", func(t *testing.T) {
		rep, err := RunHostile(ctx, HostileConfig{Bin: bin, Dir: t.TempDir(), Duration: 3 * time.Second, Workers: 2,
			SlowConns: 10, IdleConns: 50, SampleEvery: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		logReport(t, rep)
		if rep.LegitFailed != 0 || rep.Legit[KindToken].Count == 0 || rep.Legit[KindList].Count == 0 || rep.Legit[KindPrefill].Count == 0 {
			t.Errorf("legitimate client: %d failed, %+v; first: %v", rep.LegitFailed, rep.Legit, rep.FirstErrors)
		}
		if rep.RSSPeak == 0 || rep.RSSPeak >= TargetHostileRSS {
			t.Errorf("server RSS peak %d bytes, bound %d", rep.RSSPeak, TargetHostileRSS)
		}
		for _, kind := range HostileKinds {
			if len(rep.Hostile[kind]) == 0 {
				t.Errorf("no %s requests were sent", kind)
			}
			for outcome, n := range rep.Hostile[kind] {
				if strings.HasPrefix(outcome, "2") || strings.HasPrefix(outcome, "5") || strings.HasPrefix(outcome, "error") {
					t.Errorf("%s: %d answered %s", kind, n, outcome)
				}
			}
		}
		// Each limit was reached, not only approached.
		for kind, status := range map[string]string{HostileHeader: "431", HostileMethod: "431", HostileBody: "413",
			HostileField: "400", HostileTokenFlood: "401"} {
			if rep.Hostile[kind][status] == 0 {
				t.Errorf("%s: no %s among %v", kind, status, rep.Hostile[kind])
			}
		}
	})
}

// logReport writes the report's text to the test log; writing it must not fail.
func logReport(t *testing.T, rep interface{ WriteText(io.Writer) error }) {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
}
