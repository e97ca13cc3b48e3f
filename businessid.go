package vippsmgmt

import "regexp"

// Business identifier schemes whose numbers end in a check digit.
const (
	SchemeNOOrg     = "business:NO:ORG"      // Norwegian organisation number: 9 digits
	SchemeDKCVR     = "business:DK:CVR"      // Danish CVR number: 8 digits, no leading 0
	SchemeFIYTunnus = "business:FI:Y-tunnus" // Finnish business ID: 7 digits, a dash, the check digit
)

// checkDigitRule is how one scheme computes its check digit: the weights of the body's digits,
// modulus 11, and the identifier's written form.
type checkDigitRule struct {
	weights []int
	// digit turns the weighted sum of the body into the check digit; false when no digit works
	// (such numbers are never issued).
	digit  func(sum int) (int, bool)
	dash   bool           // the check digit follows a dash (Y-tunnus)
	format *regexp.Regexp // the whole identifier
}

var checkDigitRules = map[string]checkDigitRule{
	// Brønnøysundregistrene: weights 3 2 7 6 5 4 3 2, check = 11 − sum mod 11; 11 → 0, 10 → never issued.
	SchemeNOOrg: {weights: []int{3, 2, 7, 6, 5, 4, 3, 2}, digit: func(sum int) (int, bool) {
		d := (11 - sum%11) % 11
		return d, d != 10
	}, format: regexp.MustCompile(`^\d{9}$`)},
	// Erhvervsstyrelsen: weights 2 7 6 5 4 3 2 1 over all eight digits sum to a multiple of 11.
	SchemeDKCVR: {weights: []int{2, 7, 6, 5, 4, 3, 2}, digit: func(sum int) (int, bool) {
		d := (11 - sum%11) % 11
		return d, d != 10
	}, format: regexp.MustCompile(`^[1-9]\d{7}$`)},
	// Verohallinto: weights 7 9 10 5 8 4 2; remainder 0 → 0, remainder 1 → never issued, else 11 − remainder.
	SchemeFIYTunnus: {weights: []int{7, 9, 10, 5, 8, 4, 2}, digit: func(sum int) (int, bool) {
		r := sum % 11
		if r == 0 {
			return 0, true
		}
		return 11 - r, r != 1
	}, dash: true, format: regexp.MustCompile(`^\d{7}-\d$`)},
}

// HasBusinessIDCheckDigit reports whether identifiers of scheme end in a check digit that
// CompleteBusinessID and ValidBusinessIDCheckDigit know.
func HasBusinessIDCheckDigit(scheme string) bool {
	_, ok := checkDigitRules[scheme]
	return ok
}

// CompleteBusinessID appends the check digit to body, the identifier's digits without it (8 for
// business:NO:ORG, 7 for business:DK:CVR and business:FI:Y-tunnus), in the scheme's written form.
// ok is false for schemes without a known check digit, for a malformed body, and for bodies that
// no check digit completes.
func CompleteBusinessID(scheme, body string) (id string, ok bool) {
	rule, known := checkDigitRules[scheme]
	if !known || len(body) != len(rule.weights) {
		return "", false
	}
	sum := 0
	for i, w := range rule.weights {
		c := body[i]
		if c < '0' || c > '9' {
			return "", false
		}
		sum += w * int(c-'0')
	}
	d, ok := rule.digit(sum)
	if !ok {
		return "", false
	}
	id = body
	if rule.dash {
		id += "-"
	}
	id += string(rune('0' + d))
	if !rule.format.MatchString(id) {
		return "", false
	}
	return id, true
}

// ValidBusinessIDCheckDigit reports whether b is well-formed for its scheme and ends in the right
// check digit. It is false for schemes without a known check digit.
func ValidBusinessIDCheckDigit(b BusinessIdentifier) bool {
	rule, known := checkDigitRules[b.Scheme]
	if !known || !rule.format.MatchString(b.ID) {
		return false
	}
	body := b.ID[:len(rule.weights)]
	id, ok := CompleteBusinessID(b.Scheme, body)
	return ok && id == b.ID
}

// businessIDCheckDigitProblem says what a number of scheme must look like when its check digit
// or its form is wrong.
func businessIDCheckDigitProblem(scheme string) string {
	switch scheme {
	case SchemeNOOrg:
		return "must be a Norwegian organisation number: 9 digits ending in a valid check digit"
	case SchemeDKCVR:
		return "must be a Danish CVR number: 8 digits, not starting with 0, ending in a valid check digit"
	default:
		return "must be a Finnish business ID: 7 digits, a dash and a valid check digit (such as 1234567-1)"
	}
}
