package main

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
)

// anonymizer replaces what identifies an account's merchants with fake values: names of merchants
// and sales units, business identifiers (with valid check digits where the scheme has one) and
// addresses. Within one anonymizer the same original always gets the same replacement, and two
// different names or business identifiers never share one, so the file stays consistent: a
// merchant, its sales units and its product orders still belong together.
//
// MSNs, product order and price package ids, statuses, configurations and times are kept: they
// identify no business outside the account, and the twin needs them to answer like the source.
// The Management API's reads return no bank accounts and no URLs except the prefill links, which
// the twin makes from its own address, so there are none to replace.
type anonymizer struct {
	rng      *rand.Rand
	names    map[string]string
	ids      map[fixtures.BusinessIdentifierDoc]string
	lines    map[string]string
	cities   map[string]string
	postCode map[string]string
	taken    map[string]bool // names and identifiers handed out
}

func newAnonymizer() *anonymizer {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return newSeededAnonymizer(seed)
}

// newSeededAnonymizer makes the replacements a function of seed, for tests.
func newSeededAnonymizer(seed [32]byte) *anonymizer {
	return &anonymizer{
		rng: rand.New(rand.NewChaCha8(seed)), names: map[string]string{}, ids: map[fixtures.BusinessIdentifierDoc]string{},
		lines: map[string]string{}, cities: map[string]string{}, postCode: map[string]string{}, taken: map[string]bool{},
	}
}

// document anonymizes doc in place.
func (a *anonymizer) document(doc *fixtures.Document) {
	for i := range doc.Merchants {
		m := &doc.Merchants[i]
		m.BusinessIdentifier.ID = a.businessID(m.BusinessIdentifier)
		m.Name = a.name(m.Name)
		m.BusinessAddress = a.address(m.BusinessAddress)
		m.BusinessPostAddress = a.address(m.BusinessPostAddress)
		for j := range m.SalesUnits {
			m.SalesUnits[j].Name = a.name(m.SalesUnits[j].Name)
		}
	}
	for i := range doc.ProductOrders {
		o := &doc.ProductOrders[i]
		o.BusinessIdentifier.ID = a.businessID(o.BusinessIdentifier)
		if o.SalesUnit != nil {
			o.SalesUnit.Name = a.name(o.SalesUnit.Name)
		}
	}
}

var (
	fakeNameFirst = []string{"Blåbær", "Fjellrev", "Havørn", "Nordlys", "Solsikke", "Skogbunn", "Elvebredd", "Granlund",
		"Bjørkely", "Tindefjell", "Måkeskjær", "Lyngheia", "Multebær", "Kantarell", "Rypefjell", "Sjøsprøyt", "Ekorn", "Furuly",
		"Hestehov", "Snøhvit"}
	fakeNameSecond = []string{"Bakeri", "Kafé", "Verksted", "Studio", "Handel", "Sport", "Bokhandel", "Blomster", "Frisør",
		"Kiosk", "Bistro", "Sykkel", "Interiør", "Design", "Reiser", "Fisk", "Optikk", "Bryggeri", "Galleri", "Trening"}
	fakePlaces = []string{"Nordvik", "Solberg", "Fjellstad", "Havnby", "Skogli", "Elvdal", "Lindholm", "Strandby", "Mølleby",
		"Järvelä", "Koskela", "Rantala"}
	fakeStreets = []string{"Bjørkeveien", "Granlia", "Solbakken", "Elvegata", "Kirkeveien", "Havnegata", "Skolegata",
		"Parkveien", "Lindeallé", "Møllevej", "Strandvejen", "Rantatie", "Koulukatu", "Puistotie"}
	// companyForms are kept at the end of a name, so a fake merchant still reads as the kind of
	// company it is.
	companyForms = []string{"AS", "ASA", "ANS", "DA", "ENK", "SA", "ApS", "A/S", "I/S", "K/S", "IVS", "Oy", "Oyj", "Ab", "Tmi", "Ky"}
)

// name returns the fake name of a merchant or sales unit, keeping a company form at its end.
func (a *anonymizer) name(orig string) string {
	if fake, ok := a.names[orig]; ok {
		return fake
	}
	suffix := ""
	for _, f := range companyForms {
		if strings.HasSuffix(orig, " "+f) {
			suffix = " " + f
			break
		}
	}
	var fake string
	for n := 0; ; n++ {
		fake = fakeNameFirst[a.rng.IntN(len(fakeNameFirst))] + " " + fakeNameSecond[a.rng.IntN(len(fakeNameSecond))]
		if a.rng.IntN(2) == 0 {
			fake += " " + fakePlaces[a.rng.IntN(len(fakePlaces))]
		}
		if n >= 20 { // the combinations are used up: number them
			fake += fmt.Sprintf(" %d", n)
		}
		fake += suffix
		if !a.taken["name:"+fake] && fake != orig {
			break
		}
	}
	a.taken["name:"+fake] = true
	a.names[orig] = fake
	return fake
}

// businessID returns the fake id of a business identifier in the same scheme: with a valid check
// digit for the schemes that have one, else the same shape with other digits.
func (a *anonymizer) businessID(bi fixtures.BusinessIdentifierDoc) string {
	if fake, ok := a.ids[bi]; ok {
		return fake
	}
	var fake string
	// An id without digits ("----") has no other shape; the bound keeps that from looping.
	for range 10000 {
		if vippsmgmt.HasBusinessIDCheckDigit(bi.Scheme) {
			fake = a.checkedID(bi.Scheme)
		} else {
			fake = a.sameShape(bi.ID)
		}
		if fake != "" && fake != bi.ID && !a.taken["id:"+bi.Scheme+":"+fake] {
			break
		}
	}
	a.taken["id:"+bi.Scheme+":"+fake] = true
	a.ids[bi] = fake
	return fake
}

// checkedID draws a number of the scheme that passes its check digit, or "" to draw again.
func (a *anonymizer) checkedID(scheme string) string {
	var body strings.Builder
	switch scheme {
	case vippsmgmt.SchemeNOOrg: // organisation numbers begin with 8 or 9
		body.WriteByte(byte('8' + a.rng.IntN(2)))
		a.digits(&body, 7)
	case vippsmgmt.SchemeDKCVR: // never with 0
		body.WriteByte(byte('1' + a.rng.IntN(9)))
		a.digits(&body, 6)
	default:
		a.digits(&body, 7)
	}
	id, _ := vippsmgmt.CompleteBusinessID(scheme, body.String())
	return id
}

func (a *anonymizer) digits(b *strings.Builder, n int) {
	for range n {
		b.WriteByte(byte('0' + a.rng.IntN(10)))
	}
}

// sameShape replaces every digit of s by a random one, keeping a leading digit non-zero.
func (a *anonymizer) sameShape(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= '0' && c <= '9' {
			d := byte('0' + a.rng.IntN(10))
			if i == 0 && c != '0' && d == '0' {
				d = '1'
			}
			out[i] = d
		}
	}
	return string(out)
}

func (a *anonymizer) address(addr *fixtures.AddressDoc) *fixtures.AddressDoc {
	if addr == nil {
		return nil
	}
	out := &fixtures.AddressDoc{Lines: make([]string, len(addr.Lines)), CountryCode: addr.CountryCode}
	for i, l := range addr.Lines {
		out.Lines[i] = a.mapped(a.lines, l, func() string {
			return fmt.Sprintf("%s %d", fakeStreets[a.rng.IntN(len(fakeStreets))], 1+a.rng.IntN(120))
		})
	}
	if addr.PostCode != nil {
		pc := a.mapped(a.postCode, *addr.PostCode, func() string { return a.sameShape(*addr.PostCode) })
		out.PostCode = &pc
	}
	if addr.City != nil {
		city := a.mapped(a.cities, *addr.City, func() string { return fakePlaces[a.rng.IntN(len(fakePlaces))] })
		out.City = &city
	}
	return out
}

// mapped returns m[orig], making it with fake first. Address parts may share a replacement:
// two streets can become the same fake one without making the file inconsistent.
func (a *anonymizer) mapped(m map[string]string, orig string, fake func() string) string {
	if v, ok := m[orig]; ok {
		return v
	}
	v := fake()
	for i := 0; v == orig && i < 10; i++ {
		v = fake()
	}
	m[orig] = v
	return v
}
