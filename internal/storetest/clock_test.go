package storetest

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := NewClock(Start)
	if got := c.Now(); !got.Equal(Start) {
		t.Errorf("got %v, want %v", got, Start)
	}
	if got, want := c.Advance(time.Hour), Start.Add(time.Hour); !got.Equal(want) || !c.Now().Equal(want) {
		t.Errorf("Advance: got %v, want %v", got, want)
	}
	c.Set(Start)
	if got := c.Now(); !got.Equal(Start) {
		t.Errorf("Set: got %v, want %v", got, Start)
	}
}
