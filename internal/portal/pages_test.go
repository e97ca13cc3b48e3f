package portal

import "testing"

// Pages are parsed when first shown; every embedded page must parse, so a broken one fails here
// rather than in front of a user.
func TestEveryPageParses(t *testing.T) {
	pages, err := pageTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 10 {
		t.Fatalf("got %d pages, want every templates/*.html but the layout", len(pages))
	}
	for name, parse := range pages {
		tmpl, err := parse()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tmpl.Lookup("layout") == nil {
			t.Errorf("%s: no layout template", name)
		}
	}
}
