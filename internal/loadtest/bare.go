package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// BareHandler answers every request with body as contentType: the floor a handler serving the
// same bytes cannot beat, and the baseline the authenticated GET is compared with.
func BareHandler(contentType string, body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{contentType}
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
}

// ServeBare serves BareHandler on a free loopback port until ctx ends. It prints
// "listening on http://ADDR" to stdout once connections are accepted, the banner StartProcess
// waits for.
func ServeBare(ctx context.Context, contentType string, body []byte, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: BareHandler(contentType, body), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "bare handler listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bareServer is a running baseline: a child process or, when no command is given, a server in
// this process.
type bareServer struct {
	URL  string
	PID  int // 0 in this process
	stop func()
}

func startBare(ctx context.Context, command BareCommand, contentType string, body []byte, dir string) (*bareServer, error) {
	if command != nil {
		cmd, err := command(contentType, body, dir)
		if err != nil {
			return nil, err
		}
		p, err := StartProcess(ctx, cmd, "")
		if err != nil {
			return nil, err
		}
		return &bareServer{URL: p.URL, PID: p.PID, stop: func() { _ = p.Stop() }}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: BareHandler(contentType, body), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &bareServer{URL: "http://" + ln.Addr().String(), stop: func() { _ = srv.Close() }}, nil
}

// BareCommand returns the command that serves the baseline in its own process (ServeBare in a
// subcommand of the load tool), given the bytes to serve and a directory for files.
type BareCommand func(contentType string, body []byte, dir string) (*exec.Cmd, error)
