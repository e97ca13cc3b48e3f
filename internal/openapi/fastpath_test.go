package openapi

import (
	"regexp"
	"testing"
)

// TestPatternMatcherAgreesWithRegexp: the loop that replaces simple digit patterns accepts exactly
// what the regular expression accepts.
func TestPatternMatcherAgreesWithRegexp(t *testing.T) {
	values := []string{"", "1", "123", "1234", "0000000000", "12345678901", "12a4", "1234 ", " 1234", "١٢٣٤٥",
		"12\n34", "9999999999", "+1234", "-1234", "1234\x00"}
	for _, pattern := range []string{`^\d{4,10}$`, `^[0-9]{4,10}$`, `^[0-9]{4,4}$`, `^\d{9,34}$`, `^[a-zA-Z0-9-]{1,50}$`, `^\d{4}$`} {
		re := regexp.MustCompile(pattern)
		match := patternMatcher(pattern, re)
		for _, v := range values {
			if got, want := match(v), re.MatchString(v); got != want {
				t.Errorf("%s on %q: got %v, want %v", pattern, v, got, want)
			}
		}
	}
}
