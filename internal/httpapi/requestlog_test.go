package httpapi

import (
	"fmt"
	"testing"
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
