package logsink

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt/internal/syncbuf"
)

var awkward = []string{
	"", "plain", "with space", "a=b", `quote"d`, `back\slash`, "tab\there", "new\nline", "\x00\x1f\x7f",
	"æøå", "日本", "\u2028\u2029", "bad\xffutf8", "\xc3", "<html>&amp;", "non\u00a0breaking", "\u200bzero-width",
	"GET /management/v1/sales-units/{msn}", "partner:client-1",
}

// TestLineIsWhatSlogWrites holds Append to the bytes slog's own handlers write for the same
// record, in both formats and for values that need escaping or quoting.
func TestLineIsWhatSlogWrites(t *testing.T) {
	at := time.Date(2026, 12, 3, 8, 52, 47, 123456789, time.FixedZone("X", 3600))
	for _, format := range []string{"json", "text"} {
		for _, v := range awkward {
			for _, w := range []string{"", ":", "x y", "\xff"} {
				var want bytes.Buffer
				var h slog.Handler = slog.NewTextHandler(&want, nil)
				if format == "json" {
					h = slog.NewJSONHandler(&want, nil)
				}
				r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", v), slog.Int("status", -201), slog.Duration("duration", 1234567*time.Nanosecond),
					slog.Bool("injected", len(v)%2 == 0), slog.String("caller", v+w), slog.String(v, "key"))
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				s, err := New(&got, format)
				if err != nil {
					t.Fatal(err)
				}
				s.Append(at, "request", func(l *Line) {
					l.String("method", v)
					l.Int("status", -201)
					l.Duration("duration", 1234567*time.Nanosecond)
					l.Bool("injected", len(v)%2 == 0)
					l.String2("caller", v, w)
					l.String(v, "key")
				})
				// The same line with its keys made once.
				s.Append(at, "request", func(l *Line) {
					l.KeyString(NewKey("method"), v)
					l.KeyInt(NewKey("status"), -201)
					l.KeyDuration(NewKey("duration"), 1234567*time.Nanosecond)
					l.Bool("injected", len(v)%2 == 0)
					l.String2("caller", v, w)
					l.KeyString(NewKey(v), "key")
				})
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String()+want.String() {
					t.Errorf("%s, %q + %q:\ngot  %s\nwant %s (twice)", format, v, w, got.String(), want.String())
				}
			}
		}
	}
}

// TestLinesWaitAtMostFlushAfter shows a line reaching the writer without Close, a warning
// reaching it at once with the lines before it, and Close writing what is left.
func TestLinesWaitAtMostFlushAfter(t *testing.T) {
	var out syncbuf.Buffer
	s, err := New(&out, "json")
	if err != nil {
		t.Fatal(err)
	}
	s.Append(time.Now(), "request", func(l *Line) { l.String("n", "1") })
	if out.String() != "" {
		t.Fatalf("written before any flush: %q", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), `"n":"1"`) {
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the writer")
		}
		time.Sleep(FlushAfter / 4)
	}
	logger := s.Logger()
	logger.Info("buffered")
	logger.Warn("urgent")
	if got := out.String(); !strings.Contains(got, `"msg":"buffered"`) || !strings.Contains(got, `"msg":"urgent"`) {
		t.Fatalf("a warning did not flush: %q", got)
	}
	logger.Info("last")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"msg":"last"`) {
		t.Fatalf("Close lost a line: %q", out.String())
	}
	logger.Info("after close")
	if !strings.Contains(out.String(), `"msg":"after close"`) {
		t.Fatalf("a line after Close was held: %q", out.String())
	}
}

// TestBufferIsBounded writes far more than the buffer holds without a flush interval passing.
func TestBufferIsBounded(t *testing.T) {
	var out syncbuf.Buffer
	s, _ := New(&out, "text")
	long := strings.Repeat("x", 1000)
	for range 1000 {
		s.Append(time.Now(), "request", func(l *Line) { l.String("v", long) })
		s.mu.Lock()
		n := len(s.buf)
		s.mu.Unlock()
		if n > flushSize+2000 {
			t.Fatalf("buffer holds %d bytes", n)
		}
	}
	_ = s.Close()
	if got := strings.Count(out.String(), "\n"); got != 1000 {
		t.Fatalf("%d lines written, want 1000", got)
	}
}

// TestRFC3339NanoIsTimeFormat holds the JSON lines' time to what time.RFC3339Nano formats, over
// fractions with and without trailing zeros and zones east, west and at UTC (with odd minutes).
func TestRFC3339NanoIsTimeFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("CET", 3600), time.FixedZone("NST", -(3*3600 + 30*60)),
		time.FixedZone("NPT", 5*3600+45*60), time.FixedZone("LMT", -(17*60 + 30)), time.FixedZone("odd", 59)}
	base := time.Date(2026, 12, 3, 23, 59, 59, 0, time.UTC)
	var cached Line // keeps its second from one call to the next
	for i, ns := range []int{0, 1, 10, 120, 999999999, 500000000, 123456789, 100000} {
		for _, z := range zones {
			for _, at := range []time.Time{base, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
				tm := at.Add(time.Duration(ns) + time.Duration(i)*time.Hour).In(z)
				want := tm.AppendFormat([]byte("x"), time.RFC3339Nano)
				if got := appendRFC3339Nano([]byte("x"), tm); !bytes.Equal(got, want) {
					t.Errorf("%v: got %s, want %s", tm, got, want)
				}
				if got := cached.appendTime([]byte("x"), tm); !bytes.Equal(got, want) {
					t.Errorf("%v (second kept from the line before): got %s, want %s", tm, got, want)
				}
			}
		}
	}
	// Lines 300 ms apart: most share their second with the line before, some start a new one.
	for _, z := range zones {
		for k := range 12 {
			tm := base.Add(time.Duration(k) * 300 * time.Millisecond).In(z)
			want := tm.AppendFormat([]byte("x"), time.RFC3339Nano)
			if got := cached.appendTime([]byte("x"), tm); !bytes.Equal(got, want) {
				t.Errorf("%v (second kept from the line before): got %s, want %s", tm, got, want)
			}
		}
	}
}

// TestEscapingEightBytesAtOnce puts each kind of byte the JSON escaping must see at every place
// of a string long enough for the eight-byte test, and holds the line to slog's.
func TestEscapingEightBytesAtOnce(t *testing.T) {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for _, special := range []string{"\x00", "\x1f", " ", "!", "\"", "#", "\\", "]", "\x7f", "\x80", "\xff", "é", "\u2028", "~"} {
		for pos := 0; pos <= 18; pos++ {
			v := letters[:pos] + special + "0123456789"
			var want bytes.Buffer
			slog.New(slog.NewJSONHandler(&want, nil)).Info("m", "v", v)
			var got bytes.Buffer
			s, err := New(&got, "json")
			if err != nil {
				t.Fatal(err)
			}
			s.Append(time.Now(), "m", func(l *Line) { l.String("v", v) })
			_ = s.Close()
			// The times differ; what follows them must not.
			_, wantRest, _ := strings.Cut(want.String(), `","level"`)
			_, gotRest, _ := strings.Cut(got.String(), `","level"`)
			if gotRest != wantRest {
				t.Errorf("%q: got %s, want %s", v, gotRest, wantRest)
			}
		}
	}
}
