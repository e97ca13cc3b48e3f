package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// runStartup measures start-to-first-200: how long a command that starts a vippsmgmt server takes
// until GET /readyz answers 200, over several runs. The command gets VIPPSMGMT_ADDR with a free
// loopback port; --prepare runs before each start (to remove the database, so each run is a
// first start that migrates it and loads the demo data).
func runStartup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("startup", stderr)
	runs := fs.Int("n", 10, "number of runs")
	prepare := fs.String("prepare", "", "shell command run before each start")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up on a run after this long")
	if err := fs.Parse(args); err != nil {
		return cli.FlagError(err)
	}
	if fs.NArg() == 0 || *runs < 1 {
		return fmt.Errorf("%w: startup [-n N] [-prepare CMD] -- command [args]", errUsage)
	}
	var took, cpu []time.Duration
	for i := 0; i < *runs; i++ {
		if *prepare != "" {
			if out, err := exec.CommandContext(ctx, "sh", "-c", *prepare).CombinedOutput(); err != nil {
				return fmt.Errorf("prepare: %v\n%s", err, out)
			}
		}
		d, c, err := startOnce(ctx, fs.Args(), *timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		took, cpu = append(took, d), append(cpu, c)
	}
	fmt.Fprintf(stdout, "%d runs: start-to-first-200 %s; CPU (user+sys, whole run) %s\n", len(took), summary(took), summary(cpu))
	return nil
}

func summary(ds []time.Duration) string {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("min %s, median %s, mean %s, max %s", ms(ds[0]), ms(ds[len(ds)/2]), ms(sum/time.Duration(len(ds))), ms(ds[len(ds)-1]))
}

// startOnce starts argv, polls it until the first 200 and stops it. It returns the time to that
// 200 and the CPU time of the command and the processes it waited for, start to exit.
func startOnce(ctx context.Context, argv []string, timeout time.Duration) (time.Duration, time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "VIPPSMGMT_ADDR="+addr)
	// Its own process group, so that `go run` and the server it starts stop together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	hc := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	for deadline := start.Add(timeout); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		select {
		case err := <-exited:
			return 0, 0, fmt.Errorf("%v exited before answering: %v", argv, err)
		default:
		}
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			took := time.Since(start)
			stop()
			return took, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
		}
	}
	stop()
	return 0, 0, fmt.Errorf("%v: no 200 from /readyz within %s", argv, timeout)
}
