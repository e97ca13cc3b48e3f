package httpapi

import (
	"testing"

	"github.com/google/uuid"
)

func TestFillRequestIDMakesARandomUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		var b [36]byte
		fillRequestID(&b)
		id := string(b[:])
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q is not a canonical version 4 UUID (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("%s twice", id)
		}
		seen[id] = true
	}
}
