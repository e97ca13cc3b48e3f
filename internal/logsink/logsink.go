// Package logsink is where the server's log lines go: a buffer in front of the log's writer, so
// that a busy server writes its one line per request in a few system calls a second rather than
// one each, and a Line appender that formats the request line exactly as log/slog's text or JSON
// handler would, without slog's generic path.
//
// Lines reach the writer when the buffer fills, FlushAfter after the first unwritten line, at once
// for warnings and errors, and on Close, which the server calls on its way out (also after
// SIGTERM), so no line is lost on an orderly stop.
package logsink

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// FlushAfter is the longest a line waits in the buffer.
const FlushAfter = 100 * time.Millisecond

// flushSize is the buffered bytes that make a write at once; it bounds the buffer's memory.
const flushSize = 32 << 10

// Sink buffers log lines for one writer.
type Sink struct {
	json bool

	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	line   Line        // the line Append fills; reused so that it never escapes to the heap
	timer  *time.Timer // armed while the buffer holds lines
	armed  bool
	closed bool
	err    error // the first write error, returned by Close
}

// New returns a sink writing to w in format "text" or "json".
func New(w io.Writer, format string) (*Sink, error) {
	if format != "text" && format != "json" {
		return nil, errors.New("logsink: format must be text or json")
	}
	s := &Sink{json: format == "json", w: w, buf: make([]byte, 0, flushSize+4<<10)}
	s.timer = time.AfterFunc(time.Hour, s.timed)
	s.timer.Stop()
	return s, nil
}

// JSON reports whether lines are JSON objects (otherwise slog's text format).
func (s *Sink) JSON() bool { return s.json }

// Write adds p, one or more complete lines, to the buffer.
func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	s.added()
	s.mu.Unlock()
	return len(p), nil
}

// added writes a full buffer or makes sure a timer will; s.mu is held.
func (s *Sink) added() {
	switch {
	case len(s.buf) >= flushSize || s.closed:
		s.flushLocked()
	case !s.armed && len(s.buf) > 0:
		s.armed = true
		s.timer.Reset(FlushAfter)
	}
}

func (s *Sink) timed() {
	s.mu.Lock()
	s.armed = false
	s.flushLocked()
	s.mu.Unlock()
}

func (s *Sink) flushLocked() {
	if len(s.buf) == 0 {
		return
	}
	if _, err := s.w.Write(s.buf); err != nil && s.err == nil {
		s.err = err
	}
	// A writer that failed once keeps its lines out rather than letting them pile up.
	s.buf = s.buf[:0]
}

// Flush writes the buffered lines now.
func (s *Sink) Flush() {
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

// Close writes the buffered lines and makes every later line go straight to the writer. It
// returns the first error the writer gave.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.timer.Stop()
	s.flushLocked()
	return s.err
}

// Logger returns a slog.Logger writing to the sink in its format; records of level Warn and
// above are written at once, with whatever was buffered before them.
func (s *Sink) Logger() *slog.Logger {
	var h slog.Handler
	if s.json {
		h = slog.NewJSONHandler(s, nil)
	} else {
		h = slog.NewTextHandler(s, nil)
	}
	return slog.New(flushingHandler{h, s})
}

type flushingHandler struct {
	slog.Handler
	s *Sink
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.s.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.s}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.s}
}

// Line is one log line being appended to the sink's buffer.
type Line struct {
	b    []byte
	json bool
	// The JSON time up to its seconds ("2006-01-02T15:04:05") of the last line, for the second
	// and zone offset it was made for: most lines share their second with the line before.
	second       int64
	secondOffset int
	secondText   []byte
}

// Append adds one Info-level line with message msg at time t, whose attributes fill appends. The
// line is byte for byte what a slog.Logger from Logger writes for the same record, without
// building slog attributes. fill must not keep l.
func (s *Sink) Append(t time.Time, msg string, fill func(l *Line)) {
	s.mu.Lock()
	l := &s.line
	l.b, l.json = s.buf, s.json
	l.start(t, msg)
	fill(l)
	l.end()
	s.buf, l.b = l.b, nil
	s.added()
	s.mu.Unlock()
}

func (l *Line) start(t time.Time, msg string) {
	t = t.Round(0)
	if l.json {
		l.b = append(l.b, `{"time":"`...)
		l.b = l.appendTime(l.b, t)
		l.b = append(l.b, `","level":"INFO","msg":`...)
	} else {
		l.b = append(l.b, "time="...)
		l.b = appendRFC3339Millis(l.b, t)
		l.b = append(l.b, " level=INFO msg="...)
	}
	l.b = l.appendString(l.b, msg)
}

func (l *Line) end() {
	if l.json {
		l.b = append(l.b, '}')
	}
	l.b = append(l.b, '\n')
}

func (l *Line) key(k string) {
	if plainKey(k) {
		if l.json {
			l.b = append(l.b, ',', '"')
			l.b = append(l.b, k...)
			l.b = append(l.b, '"', ':')
		} else {
			l.b = append(l.b, ' ')
			l.b = append(l.b, k...)
			l.b = append(l.b, '=')
		}
		return
	}
	if l.json {
		l.b = append(l.b, ',')
		l.b = l.appendString(l.b, k)
		l.b = append(l.b, ':')
	} else {
		l.b = append(l.b, ' ')
		l.b = l.appendString(l.b, k)
		l.b = append(l.b, '=')
	}
}

// Key is an attribute key whose JSON and text forms are made once, so that a line naming its keys
// by Key neither checks nor escapes them again.
type Key struct{ json, text string }

// NewKey returns k as a Key.
func NewKey(k string) Key {
	j := Line{json: true}
	j.key(k)
	t := Line{}
	t.key(k)
	return Key{json: string(j.b), text: string(t.b)}
}

func (l *Line) putKey(k Key) {
	if l.json {
		l.b = append(l.b, k.json...)
	} else {
		l.b = append(l.b, k.text...)
	}
}

// KeyString appends a string attribute of key k.
func (l *Line) KeyString(k Key, v string) {
	l.putKey(k)
	l.b = l.appendString(l.b, v)
}

// KeyInt appends an integer attribute of key k.
func (l *Line) KeyInt(k Key, v int) {
	l.putKey(k)
	l.b = strconv.AppendInt(l.b, int64(v), 10)
}

// KeyDuration appends a duration attribute of key k, as Duration does.
func (l *Line) KeyDuration(k Key, d time.Duration) {
	l.putKey(k)
	l.appendDuration(d)
}

// String appends a string attribute.
func (l *Line) String(k, v string) {
	l.key(k)
	l.b = l.appendString(l.b, v)
}

// String2 appends a string attribute whose value is a+b, without concatenating them first.
func (l *Line) String2(k, a, b string) {
	l.key(k)
	if l.json {
		l.b = append(l.b, '"')
		l.b = appendEscapedJSONString(l.b, a)
		l.b = appendEscapedJSONString(l.b, b)
		l.b = append(l.b, '"')
		return
	}
	if (a != "" || b != "") && (a == "" || !needsQuoting(a)) && (b == "" || !needsQuoting(b)) {
		l.b = append(l.b, a...)
		l.b = append(l.b, b...)
		return
	}
	l.b = strconv.AppendQuote(l.b, a+b)
}

// Int appends an integer attribute.
func (l *Line) Int(k string, v int) {
	l.key(k)
	l.b = strconv.AppendInt(l.b, int64(v), 10)
}

// Bool appends a boolean attribute.
func (l *Line) Bool(k string, v bool) {
	l.key(k)
	l.b = strconv.AppendBool(l.b, v)
}

// Duration appends a duration attribute: nanoseconds in JSON, Duration.String in text.
func (l *Line) Duration(k string, d time.Duration) {
	l.key(k)
	l.appendDuration(d)
}

func (l *Line) appendDuration(d time.Duration) {
	if l.json {
		l.b = strconv.AppendInt(l.b, int64(d), 10)
	} else {
		l.b = append(l.b, d.String()...)
	}
}

func (l *Line) appendString(b []byte, s string) []byte {
	if l.json {
		b = append(b, '"')
		b = appendEscapedJSONString(b, s)
		return append(b, '"')
	}
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// plainKey reports whether k is written as it is in both formats: letters, digits and '_'.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// appendTime is appendRFC3339Nano with the part up to the seconds taken from the line before when
// it had the same second and zone offset.
func (l *Line) appendTime(b []byte, t time.Time) []byte {
	_, offset := t.Zone()
	sec := t.Unix()
	if l.secondText == nil || sec != l.second || offset != l.secondOffset {
		if y := t.Year(); y < 0 || y > 9999 {
			return appendRFC3339Nano(b, t) // the layout interpreter's years, not cached
		}
		const secondsLen = len("2006-01-02T15:04:05")
		l.secondText = appendRFC3339Nano(l.secondText[:0], t.Truncate(time.Second))[:secondsLen]
		l.second, l.secondOffset = sec, offset
	}
	b = append(b, l.secondText...)
	b = appendFraction(b, t.Nanosecond())
	return appendZone(b, offset)
}

// appendRFC3339Nano appends what t.AppendFormat(b, time.RFC3339Nano) would (the fraction without
// trailing zeros, Z for UTC) without the general layout interpreter: every JSON line starts with it.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	_, offset := t.Zone()
	u := t.UTC().Add(time.Duration(offset) * time.Second) // the wall clock of t's zone, zone lookups once
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	hour, minute, second := u.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	b = appendFraction(b, u.Nanosecond())
	return appendZone(b, offset)
}

// appendZone appends RFC 3339's zone of offset seconds east of UTC: Z or ±hh:mm.
func appendZone(b []byte, offset int) []byte {
	if offset == 0 {
		return append(b, 'Z')
	}
	zone := offset / 60 // minutes, as the time package rounds them
	sign := byte('+')
	if zone < 0 {
		sign, zone = '-', -zone
	}
	b = append(b, sign)
	b = appendDigits(b, zone/60, 2)
	b = append(b, ':')
	return appendDigits(b, zone%60, 2)
}

// appendDigits appends v, not negative, with at least width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// appendFraction appends RFC3339Nano's fraction of ns nanoseconds: nothing for none, else a dot and
// the digits without trailing zeros.
func appendFraction(b []byte, ns int) []byte {
	if ns == 0 {
		return b
	}
	b = append(b, '.')
	b = appendDigits(b, ns, 9)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// appendRFC3339Millis is the text handler's time: RFC 3339 with exactly three fractional digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the 4th digit
}

// needsQuoting is the text handler's rule for quoting a value.
func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b != '\\' && (b == ' ' || b == '=' || !safeSet[b]) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

const hex = "0123456789abcdef"

// appendEscapedJSONString escapes s as the JSON handler does: control characters, quote and
// backslash, invalid UTF-8 as U+FFFD, and U+2028 and U+2029.
func appendEscapedJSONString(buf []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && safe8(s[i:i+8]) {
			i += 8
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			if safeSet[b] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\')
			switch b {
			case '\\', '"':
				buf = append(buf, b)
			case '\n':
				buf = append(buf, 'n')
			case '\r':
				buf = append(buf, 'r')
			case '\t':
				buf = append(buf, 't')
			default:
				buf = append(buf, 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(buf, s[start:]...)
}

// safe8 reports whether all 8 bytes of s are in safeSet, testing them at once: none at or above
// 0x80, none below 0x20, none a quote or a backslash. (Each test tells exactly whether any byte
// has the property, as in "Bit Twiddling Hacks", hasless and haszero.)
func safe8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	bad := x&highs | (x-0x20*ones)&^x&highs | hasZero(x^'"'*ones) | hasZero(x^'\\'*ones)
	return bad == 0
}

// safeSet holds true for the ASCII characters a JSON string holds without escaping: all but the
// control characters, '"' and '\\'.
var safeSet = func() (set [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		set[c] = c != '"' && c != '\\'
	}
	return set
}()
