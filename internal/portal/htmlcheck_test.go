package portal

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// node is a minimal DOM for assertions on the portal's own, well-formed HTML.
type node struct {
	Tag      string
	Attr     map[string]string
	Children []*node
	Parent   *node
	text     strings.Builder
}

// parseHTML reads HTML with encoding/xml in its lenient mode, which copes with void elements,
// bare attributes and HTML entities.
func parseHTML(t testing.TB, body string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{Tag: "#root", Attr: map[string]string{}}
	cur := root
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("parse HTML: %v\n%s", err, body)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{Tag: strings.ToLower(tk.Name.Local), Attr: map[string]string{}, Parent: cur}
			for _, a := range tk.Attr {
				n.Attr[strings.ToLower(a.Name.Local)] = a.Value
			}
			cur.Children = append(cur.Children, n)
			cur = n
		case xml.EndElement:
			for n := cur; n != nil; n = n.Parent {
				if n.Tag == strings.ToLower(tk.Name.Local) {
					cur = n.Parent
					break
				}
			}
			if cur == nil {
				cur = root
			}
		case xml.CharData:
			for n := cur; n != nil; n = n.Parent {
				n.text.Write(tk)
			}
		}
	}
	return root
}

// Text is the node's text with runs of white space collapsed.
func (n *node) Text() string { return strings.Join(strings.Fields(n.text.String()), " ") }

// matchSimple matches one compound selector: tag, #id, .class, [attr] and [attr=value] parts.
func (n *node) matchSimple(sel string) bool {
	for sel != "" {
		switch sel[0] {
		case '#', '.':
			end := strings.IndexAny(sel[1:], "#.[")
			if end < 0 {
				end = len(sel) - 1
			}
			v := sel[1 : end+1]
			if sel[0] == '#' && n.Attr["id"] != v {
				return false
			}
			if sel[0] == '.' && !hasWord(n.Attr["class"], v) {
				return false
			}
			sel = sel[end+1:]
		case '[':
			end := strings.IndexByte(sel, ']')
			expr := sel[1:end]
			if k, v, ok := strings.Cut(expr, "="); ok {
				if got, has := n.Attr[k]; !has || got != strings.Trim(v, `"'`) {
					return false
				}
			} else if _, has := n.Attr[expr]; !has {
				return false
			}
			sel = sel[end+1:]
		default:
			end := strings.IndexAny(sel, "#.[")
			if end < 0 {
				end = len(sel)
			}
			if n.Tag != sel[:end] {
				return false
			}
			sel = sel[end:]
		}
	}
	return true
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// Find returns the descendants matching a selector of compound parts joined by spaces
// (descendant combinator), in document order.
func (n *node) Find(selector string) []*node {
	parts := strings.Fields(selector)
	var out []*node
	var walk func(m *node)
	walk = func(m *node) {
		for _, c := range m.Children {
			if c.matchSimple(parts[len(parts)-1]) && c.hasAncestors(parts[:len(parts)-1]) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n *node) hasAncestors(parts []string) bool {
	a := n.Parent
	for i := len(parts) - 1; i >= 0; i-- {
		for a != nil && !a.matchSimple(parts[i]) {
			a = a.Parent
		}
		if a == nil {
			return false
		}
		a = a.Parent
	}
	return true
}

// One returns the single match of selector and fails the test otherwise.
func (n *node) One(t testing.TB, selector string) *node {
	t.Helper()
	got := n.Find(selector)
	if len(got) != 1 {
		t.Fatalf("%q: got %d matches, want 1", selector, len(got))
	}
	return got[0]
}

// checkPage asserts what every portal page must have: a language, one h1, a viewport and a
// label for every control.
func checkPage(t testing.TB, doc *node) {
	t.Helper()
	if html := doc.Find("html"); len(html) != 1 || html[0].Attr["lang"] == "" {
		t.Errorf("page has no <html lang>")
	}
	if n := len(doc.Find("h1")); n != 1 {
		t.Errorf("page has %d h1 elements, want 1", n)
	}
	if len(doc.Find("meta[name=viewport]")) != 1 {
		t.Errorf("page has no viewport meta tag")
	}
	labels := map[string]bool{}
	for _, l := range doc.Find("label") {
		labels[l.Attr["for"]] = true
	}
	for _, tag := range []string{"input", "select", "textarea"} {
		for _, c := range doc.Find(tag) {
			switch c.Attr["type"] {
			case "hidden", "submit", "button":
				continue
			}
			id := c.Attr["id"]
			if id == "" || !labels[id] {
				t.Errorf("<%s name=%q id=%q> has no <label for>", tag, c.Attr["name"], id)
			}
			if len(doc.Find("#"+id)) > 1 {
				t.Errorf("id %q is used more than once", id)
			}
		}
	}
}
