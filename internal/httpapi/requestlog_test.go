package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRequestLogKeepsTheLastRecordsNewestFirst(t *testing.T) {
	l := NewRequestLog(3)
	if got := l.Last(10); len(got) != 0 {
		t.Fatalf("empty log returned %d records", len(got))
	}
	for i := 1; i <= 5; i++ {
		l.Add(RequestRecord{RequestID: fmt.Sprint(i)})
	}
	var ids string
	for _, r := range l.Last(0) {
		ids += r.RequestID
	}
	if ids != "543" {
		t.Fatalf("got %q, want 543", ids)
	}
	if got := l.Last(2); len(got) != 2 || got[0].RequestID != "5" {
		t.Fatalf("Last(2) = %+v", got)
	}
}

func TestRequestLogIsBoundedInBytes(t *testing.T) {
	const maxBytes = 10_000
	l := NewRequestLogBytes(1000, maxBytes)
	big := strings.Repeat("x", MaxClientString)
	for i := range 500 {
		l.Add(RequestRecord{RequestID: fmt.Sprint(i), Path: big, SystemName: big, SystemVersion: big, PluginName: big, PluginVersion: big})
		if l.Bytes() > maxBytes {
			t.Fatalf("after %d records the log holds %d bytes, more than %d", i+1, l.Bytes(), maxBytes)
		}
	}
	recs := l.Last(0)
	if len(recs) == 0 || len(recs) >= 500 || recs[0].RequestID != "499" {
		t.Fatalf("kept %d records, newest %q", len(recs), recs[0].RequestID)
	}
	var sum int
	for i := range recs {
		sum += recs[i].size()
	}
	if sum != l.Bytes() || sum > maxBytes {
		t.Fatalf("records add up to %d bytes, the log counts %d, bound %d", sum, l.Bytes(), maxBytes)
	}
}

func TestClipBoundsClientStrings(t *testing.T) {
	for _, in := range []string{strings.Repeat("é", 1000), strings.Repeat("a", 5000), "a\x00b\nc", "\xff\xfe" + strings.Repeat("z", 200), "del\x7f", "\xff", "kasse\u00e9\x1b"} {
		got := clip(in)
		if len(got) > MaxClientString || !utf8.ValidString(got) || strings.ContainsFunc(got, func(c rune) bool { return c < 0x20 || c == 0x7f }) || got == in {
			t.Errorf("clip(%.20q…) = %q (%d bytes)", in, got, len(got))
		}
	}
	for _, in := range []string{"acme-pos", "Kasse på Bryggen ✓", strings.Repeat("a", MaxClientString), ""} {
		if got := clip(in); got != in {
			t.Errorf("clip changed a short printable value: %q became %q", in, got)
		}
	}
}
