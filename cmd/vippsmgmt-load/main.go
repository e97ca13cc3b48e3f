// Command vippsmgmt-load measures a vippsmgmt server on this machine: `scale` (GET against a bare
// handler, the 100,000-unit list and its memory, prefills per second on SQLite and PostgreSQL) and
// `soak` (a fixed rate of a realistic mix for a fixed time). It builds cmd/vippsmgmt, starts it as
// a child process on 127.0.0.1 and stops it afterwards; run it from the repository.
//
// It is a developer tool, kept out of the product binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
	"github.com/vippsmgmt/vippsmgmt/internal/loadtest"
	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
)

const usage = `usage: vippsmgmt-load <command> [flags]

commands:
  scale   authenticated GET vs a bare handler, the 100,000-unit list, prefills/s (see scale -h)
  soak    a fixed rate of token, list, details and prefill calls for a fixed time (see soak -h)
  hostile a legitimate client's token, list and prefill calls under a mix of hostile traffic,
          and the server's RSS against a bound (see hostile -h)
  instructions
          only the callgrind count of scale: instructions per authenticated GET and per bare request
  prefill only the prefill figures of scale: prefills/s on SQLite against a bare loop of one
          transaction per insert, server CPU per prefill, PostgreSQL's rate (see prefill -h)
  startup only the start-up figures of scale: time to a healthy server on a fresh database, idle RSS
  scaleout
          only the scale-out figures of scale: server CPU and instructions per request with one and
          two server processes on one PostgreSQL database (see scaleout -h)

Exit status: 0 when every target is met, 1 when one is missed or a run fails, 2 for bad usage.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errMissed means the run finished but a target was missed.
var errMissed = errors.New("target missed")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	command, ok := map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
		"scale": runScale, "soak": runSoak, "hostile": runHostile, "instructions": runInstructions,
		"prefill": runPrefill, "startup": runStartup, "scaleout": runScaleOut,
		"bare": runBare, // the baseline server of scale, in its own process
	}[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return 2
	}
	err := command(ctx, args[1:], stdout, stderr)
	if errors.Is(err, errMissed) {
		return 1
	}
	return cli.ExitCode("vippsmgmt-load", err, stderr)
}

// common are the flags of both commands.
type common struct {
	bin        string
	postgres   string
	noPostgres bool
	jsonOut    bool
	keep       bool
	discardLog bool
	quiet      bool
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.bin, "server-bin", "", "vippsmgmt binary to test; default: go build ./cmd/vippsmgmt into a temp dir")
	fs.StringVar(&c.postgres, "postgres", "", "postgres:// URL of a disposable database; default: a throwaway local cluster")
	fs.BoolVar(&c.noPostgres, "no-postgres", false, "skip PostgreSQL")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&c.keep, "keep", false, "keep the temp dir (databases, server logs) and print its path")
	fs.BoolVar(&c.discardLog, "discard-log", false, "send the server's request log nowhere instead of a file")
	fs.BoolVar(&c.quiet, "q", false, "no progress lines on stderr")
}

// defaulted is a measurement's configuration: a pointer to C that fills in its defaults.
type defaulted[C any] interface {
	*C
	SetDefaults()
}

// newCommand is a measuring subcommand's flag set holding the flags they all share, and its
// configuration, already holding the defaults so that its own flags show them.
func newCommand[C any, P defaulted[C]](name string) (*flag.FlagSet, *common, P) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := &common{}
	c.flags(fs)
	cfg := P(new(C))
	cfg.SetDefaults()
	return fs, c, cfg
}

// parse parses a subcommand's flags, which take no arguments, then runs the checks of their
// bounds in order; errors and help go to stderr.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer, checks ...func() error) error {
	fs.SetOutput(stderr)
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// env is the temp dir, the server binary and, when asked for, a PostgreSQL database.
type env struct {
	dir, bin, postgres string
	postgresNote       string
	cleanup            []func()
}

func (c *common) setup(ctx context.Context, wantPostgres bool, stderr io.Writer) (*env, error) {
	dir, err := os.MkdirTemp("", "vippsmgmt-load-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, bin: c.bin}
	if c.keep {
		e.cleanup = append(e.cleanup, func() { fmt.Fprintln(stderr, "kept", dir) })
	} else {
		e.cleanup = append(e.cleanup, func() { os.RemoveAll(dir) })
	}
	if e.bin == "" {
		c.progress(stderr, "building %s", loadtest.ServerPackage)
		if e.bin, err = loadtest.BuildServer(ctx, dir); err != nil {
			e.close()
			return nil, err
		}
	}
	if wantPostgres && !c.noPostgres {
		if c.postgres != "" {
			e.postgres = c.postgres
		} else {
			c.progress(stderr, "starting a throwaway PostgreSQL cluster")
			dsn, stop, err := pgtest.StartCluster()
			if err != nil {
				e.close()
				return nil, fmt.Errorf("PostgreSQL (pass --postgres URL or --no-postgres): %w", err)
			}
			e.postgres = dsn
			e.postgresNote = "throwaway cluster with fsync=off, synchronous_commit=off (not durable)"
			e.cleanup = append(e.cleanup, func() {
				if err := stop(); err != nil {
					fmt.Fprintln(stderr, "stop PostgreSQL:", err)
				}
			})
		}
	}
	return e, nil
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

func (c *common) progress(stderr io.Writer, format string, args ...any) {
	if !c.quiet {
		fmt.Fprintf(stderr, format+"\n", args...)
	}
}

func (c *common) progressWriter(stderr io.Writer) io.Writer {
	if c.quiet {
		return io.Discard
	}
	return stderr
}

func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.ScaleConfig]("scale")
	fs.IntVar(&cfg.Units, "units", cfg.Units, "sales units of the seeded partner")
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections of the GET comparison")
	fs.DurationVar(&cfg.Phase, "phase", cfg.Phase, "length of one GET round")
	fs.IntVar(&cfg.ListRuns, "list-runs", cfg.ListRuns, "downloads of the full list")
	checkPrefill := prefillFlags(fs, cfg)
	checkInstr := instrFlags(fs, cfg)
	fs.IntVar(&cfg.Orders, "orders", cfg.Orders, "product orders of the seeded partner for the v2 list")
	fs.IntVar(&cfg.StartupRuns, "startup-runs", cfg.StartupRuns, "starts on a fresh database for the start-up figure")
	inProcess := fs.Bool("bare-in-process", false, "serve the baseline from this process instead of a child process")
	if err := parse(fs, args, stderr, checkPrefill, checkInstr); err != nil {
		return err
	}
	if cfg.Units < 1 || cfg.Units > 1000000 || cfg.Phase > time.Minute {
		return cli.Usagef("bounds: 1 <= --units <= 1000000, --phase <= 1m")
	}
	if cfg.Orders < 1 || cfg.Orders > 1000000 || cfg.StartupRuns < 1 || cfg.StartupRuns > 50 {
		return cli.Usagef("bounds: 1 <= --orders <= 1000000, 1 <= --startup-runs <= 50")
	}
	if !*inProcess {
		cfg.Bare = bareCommand
	}
	return measureScale(ctx, c, true, *cfg, stdout, stderr, loadtest.RunScale, (*loadtest.ScaleReport).Pass)
}

func runPrefill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.ScaleConfig]("prefill")
	checkPrefill := prefillFlags(fs, cfg)
	if err := parse(fs, args, stderr, checkPrefill); err != nil {
		return err
	}
	return measureScale(ctx, c, true, *cfg, stdout, stderr, loadtest.RunPrefillOnly, (*loadtest.PrefillRunReport).Pass)
}

func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.SoakConfig]("soak")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time, after a warm-up of a tenth of it (at most 5 s)")
	fs.IntVar(&cfg.Rate, "rate", cfg.Rate, "requests per second over the mix")
	fs.IntVar(&cfg.Partners, "partners", cfg.Partners, "partners the requests are spread over")
	fs.IntVar(&cfg.Units, "units", cfg.Units, "sales units of each partner")
	backend := fs.String("backend", "sqlite", "sqlite or postgres")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if cfg.Duration > time.Hour || cfg.Rate < 1 || cfg.Rate > 5000 || cfg.Units < 1 || cfg.Partners < 1 ||
		cfg.Partners*cfg.Units > 1000000 {
		return cli.Usagef("bounds: --duration <= 1h, 1 <= --rate <= 5000, 1 <= --partners x --units <= 1000000")
	}
	if *backend != "sqlite" && *backend != "postgres" {
		return cli.Usagef("--backend %q: must be sqlite or postgres", *backend)
	}
	return measure(ctx, c, *backend == "postgres", stdout, stderr, func(ctx context.Context, e *env, progress io.Writer) (*loadtest.SoakReport, error) {
		if *backend == "postgres" && e.postgres == "" {
			return nil, cli.Usagef("--backend postgres with --no-postgres")
		}
		cfg.Bin, cfg.Dir, cfg.PostgresDSN, cfg.DiscardLog, cfg.Progress = e.bin, e.dir, e.postgres, c.discardLog, progress
		return loadtest.RunSoak(ctx, *cfg)
	}, func(r *loadtest.SoakReport) bool { return r.Pass })
}

func runHostile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.HostileConfig]("hostile")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the hostile mix")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "senders of each hostile request kind")
	fs.IntVar(&cfg.SlowConns, "slow-conns", cfg.SlowConns, "slow connections of each slow kind open at once")
	fs.IntVar(&cfg.IdleConns, "idle-conns", cfg.IdleConns, "connections that send nothing, open at once")
	bound := fs.Int("rss-bound-mib", loadtest.TargetHostileRSS>>20, "server RSS the run must stay under, MiB")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if cfg.Duration > time.Hour || cfg.Workers < 1 || cfg.Workers > 64 || cfg.SlowConns < 1 || cfg.SlowConns > 1000 ||
		cfg.IdleConns < 1 || cfg.IdleConns > 5000 || *bound < 1 {
		return cli.Usagef("bounds: --duration <= 1h, 1 <= --workers <= 64, 1 <= --slow-conns <= 1000, 1 <= --idle-conns <= 5000, --rss-bound-mib >= 1")
	}
	if c.postgres != "" {
		return cli.Usagef("hostile runs on SQLite only")
	}
	return measure(ctx, c, false, stdout, stderr, func(ctx context.Context, e *env, progress io.Writer) (*loadtest.HostileReport, error) {
		cfg.Bin, cfg.Dir, cfg.RSSBound, cfg.Progress = e.bin, e.dir, uint64(*bound)<<20, progress
		return loadtest.RunHostile(ctx, *cfg)
	}, func(r *loadtest.HostileReport) bool { return r.Pass })
}

// measureScale runs one measurement of scale's family in a fresh environment, with the shared
// flags' choices, and prints its report.
func measureScale[R interface{ WriteText(io.Writer) error }](ctx context.Context, c *common, wantPostgres bool, cfg loadtest.ScaleConfig,
	stdout, stderr io.Writer, run func(context.Context, loadtest.ScaleConfig) (R, error), pass func(R) bool) error {
	return measure(ctx, c, wantPostgres, stdout, stderr, func(ctx context.Context, e *env, progress io.Writer) (R, error) {
		cfg.Bin, cfg.Dir, cfg.PostgresDSN, cfg.PostgresNote = e.bin, e.dir, e.postgres, e.postgresNote
		cfg.DiscardLog, cfg.Progress = c.discardLog, progress
		return run(ctx, cfg)
	}, pass)
}

// measure runs one measurement in a fresh environment (a temp dir, the server binary and, when
// wanted, PostgreSQL) and prints its report; run fills the environment into its configuration.
func measure[R interface{ WriteText(io.Writer) error }](ctx context.Context, c *common, wantPostgres bool, stdout, stderr io.Writer,
	run func(ctx context.Context, e *env, progress io.Writer) (R, error), pass func(R) bool) error {
	e, err := c.setup(ctx, wantPostgres, stderr)
	if err != nil {
		return err
	}
	defer e.close()
	rep, err := run(ctx, e, c.progressWriter(stderr))
	return report(stdout, c.jsonOut, rep, err, pass)
}

// report prints what a run measured, unless it failed, and answers errMissed when pass says a
// target in it was missed.
func report[R interface{ WriteText(io.Writer) error }](w io.Writer, asJSON bool, rep R, err error, pass func(R) bool) error {
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(w)
	}
	if err != nil {
		return err
	}
	if !pass(rep) {
		return errMissed
	}
	return nil
}

// bareCommand runs this program's bare subcommand: the baseline gets its own process, as the
// server under test has, so neither shares a Go runtime with the load generator.
func bareCommand(contentType string, body []byte, dir string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "bare-body")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		return nil, err
	}
	return exec.Command(self, "bare", "--content-type", contentType, "--body-file", f), nil
}

func runBare(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	ct := fs.String("content-type", "application/json", "Content-Type of the answer")
	file := fs.String("body-file", "", "file holding the answer's body")
	if err := parse(fs, args, io.Discard); err != nil {
		return err
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	return loadtest.ServeBare(ctx, *ct, body, stdout)
}

func runStartup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.ScaleConfig]("startup")
	fs.IntVar(&cfg.StartupRuns, "runs", cfg.StartupRuns, "starts on a fresh database")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if cfg.StartupRuns < 1 || cfg.StartupRuns > 50 {
		return cli.Usagef("bounds: 1 <= --runs <= 50")
	}
	return measureScale(ctx, c, false, *cfg, stdout, stderr, loadtest.RunStartup, func(r *loadtest.StartupReport) bool { return r.Pass && r.PassRSS })
}

func runScaleOut(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.ScaleConfig]("scaleout")
	fs.IntVar(&cfg.PrefillWorkers, "workers", cfg.PrefillWorkers, "concurrent callers, spread evenly over the processes")
	fs.DurationVar(&cfg.Prefill, "phase", cfg.Prefill, "length of the GET and of the prefill measurement")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds of each way of running the processes, alternating")
	fs.IntVar(&cfg.InstrRequests, "instr-requests", cfg.InstrRequests, "sizes the callgrind count (half as many GETs, a tenth as many prefills); 0 skips it")
	fs.IntVar(&cfg.InstrConns, "instr-conns", cfg.InstrConns, "connections of the callgrind count")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if cfg.PrefillWorkers < 1 || cfg.PrefillWorkers > 256 || cfg.Prefill > time.Minute || cfg.Rounds < 1 || cfg.Rounds > 10 {
		return cli.Usagef("bounds: 1 <= --workers <= 256, --phase <= 1m, 1 <= --rounds <= 10")
	}
	if err := checkInstr(cfg); err != nil {
		return err
	}
	if c.noPostgres {
		return cli.Usagef("scaleout needs PostgreSQL: drop --no-postgres")
	}
	return measureScale(ctx, c, true, *cfg, stdout, stderr, loadtest.RunScaleOutOnly, (*loadtest.ScaleOutReport).Pass)
}

// prefillFlags declares the flags of the prefill measurement, which scale makes and prefill makes
// alone, and answers the check of their bounds, for parse to run.
func prefillFlags(fs *flag.FlagSet, cfg *loadtest.ScaleConfig) func() error {
	fs.IntVar(&cfg.PrefillWorkers, "prefill-workers", cfg.PrefillWorkers, "concurrent prefill callers")
	fs.DurationVar(&cfg.Prefill, "prefill", cfg.Prefill, "length of each prefill round")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds per side, alternating the server with its baseline: the bare handler for GETs, the bare loop for prefills on SQLite")
	return func() error {
		if cfg.PrefillWorkers < 1 || cfg.PrefillWorkers > 256 || cfg.Prefill > time.Minute || cfg.Rounds > 10 {
			return cli.Usagef("bounds: 1 <= --prefill-workers <= 256, --prefill <= 1m, --rounds <= 10")
		}
		return nil
	}
}

// instrFlags declares the flags of the callgrind count, which scale and instructions share, and
// answers checkInstr of them, for parse to run.
func instrFlags(fs *flag.FlagSet, cfg *loadtest.ScaleConfig) func() error {
	fs.IntVar(&cfg.InstrRequests, "instr-requests", cfg.InstrRequests, "requests per side counted by callgrind (valgrind) when installed; 0 skips the count")
	fs.IntVar(&cfg.InstrConns, "instr-conns", cfg.InstrConns, "connections of the callgrind count")
	return func() error { return checkInstr(cfg) }
}

// checkInstr holds the callgrind count's flags to their bounds; 0 requests becomes -1, which
// the run takes as no count.
func checkInstr(cfg *loadtest.ScaleConfig) error {
	if cfg.InstrRequests < 0 || cfg.InstrRequests > 1000000 || cfg.InstrConns < 1 || cfg.InstrConns > 64 {
		return cli.Usagef("bounds: 0 <= --instr-requests <= 1000000, 1 <= --instr-conns <= 64")
	}
	if cfg.InstrRequests == 0 {
		cfg.InstrRequests = -1
	}
	return nil
}

func runInstructions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, cfg := newCommand[loadtest.ScaleConfig]("instructions")
	fs.IntVar(&cfg.Units, "units", 1000, "sales units of the seeded partner")
	checkInstr := instrFlags(fs, cfg)
	if err := parse(fs, args, stderr, checkInstr); err != nil {
		return err
	}
	if cfg.Units < 1 || cfg.Units > 1000000 {
		return cli.Usagef("bounds: 1 <= --units <= 1000000")
	}
	if cfg.InstrRequests < 0 {
		return cli.Usagef("--instr-requests 0: nothing to count")
	}
	cfg.Bare = bareCommand
	return measureScale(ctx, c, false, *cfg, stdout, stderr, loadtest.RunInstructions, func(r *loadtest.InstructionReport) bool { return r.Skipped == "" && r.Pass })
}
