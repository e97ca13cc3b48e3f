package vippsmgmt

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The operator's lists answer in pages, so that no list costs more than one page of memory and
// bytes however many rows the database holds.
const (
	DefaultPageLimit = 100  // items in a page when the caller names no limit
	MaxPageLimit     = 1000 // the largest page a caller may ask for
)

// MaxCursorBytes bounds a cursor as a client sends it: the sort key of one item, whose strings are
// at most MaxTextBytes each, base64-encoded.
const MaxCursorBytes = 4096

// Cursor is the sort key of the last item of a page: the next page starts after it. Each value is
// an int64 or a string, in the order of the list's sort key, ready to compare with the store's
// columns. Lists sort by a unique key, so a cursor names one place even while rows are added: no
// item is listed twice or skipped.
type Cursor []any

// Page asks for a page of a list: at most Limit items (0: all) after After (nil: from the start).
type Page struct {
	Limit int
	After Cursor
}

// Fetch is what to read from the store for the page: one item more than it shows, which tells
// whether another page follows (see List.Cut).
func (p Page) Fetch() Page { return Page{Limit: p.Limit + 1, After: p.After} }

// List is a paged list of T: its name, which binds a cursor to the list that gave it out, the
// kinds of its sort key ('i' an int64, 's' a string, in order) and how to read the key of an item.
// The key must be the columns the store orders the list by.
type List[T any] struct {
	name  string
	kinds string
	key   func(T) Cursor
}

// NewList describes a paged list; kinds holds 'i' (int64) or 's' (string) per sort-key value.
func NewList[T any](name, kinds string, key func(T) Cursor) List[T] {
	return List[T]{name: name, kinds: kinds, key: key}
}

// The lists of the operator API and console, each with the sort key its store orders by.
var (
	PartnerList      = NewList("partners", "s", func(p *Partner) Cursor { return Cursor{p.ID} })
	MerchantList     = NewList("merchants", "sss", func(m *Merchant) Cursor { return Cursor{m.Name, m.BusinessIdentifier.Scheme, m.BusinessIdentifier.ID} })
	SalesUnitList    = NewList("sales-units", "s", func(s *SalesUnit) Cursor { return Cursor{s.MSN} })
	PricePackageList = NewList("price-packages", "sss", func(p *PricePackage) Cursor { return Cursor{p.PartnerID, p.Name, p.ID} })
	APIKeyList       = NewList("keys", "s", func(k *APIKey) Cursor { return Cursor{k.ClientID} })
	NotificationList = NewList("notifications", "i", func(n *Notification) Cursor { return Cursor{n.ID} })
	// ProductOrderList is newest first: by creation time in microseconds (as stored), then id.
	ProductOrderList = NewList("product-orders", "is", func(o *ProductOrder) Cursor {
		return Cursor{o.CreatedAt.UnixMicro(), o.ID}
	})
	AutopilotPolicyList = NewList("autopilot", "s", func(p *AutopilotPolicy) Cursor { return Cursor{p.PartnerID} })
)

// ParsePage checks a page request as a client sends it: limit nil means DefaultPageLimit,
// otherwise 1 to MaxPageLimit; cursor nil or empty means the first page, otherwise a cursor this
// list gave out. Anything else is EINVALID naming the parameter.
func (l List[T]) ParsePage(limit *int, cursor *string) (Page, error) {
	p := Page{Limit: DefaultPageLimit}
	var errs []FieldError
	if limit != nil {
		if *limit < 1 || *limit > MaxPageLimit {
			errs = append(errs, FieldError{Field: "limit", Problem: "must be between 1 and " + strconv.Itoa(MaxPageLimit)})
		}
		p.Limit = *limit
	}
	if cursor != nil && *cursor != "" {
		c, ok := l.decode(*cursor)
		if !ok {
			errs = append(errs, FieldError{Field: "cursor", Problem: "is not a cursor of this list: give the nextCursor of the page before, or none for the first page"})
		}
		p.After = c
	}
	if err := InvalidFields(errs); err != nil {
		return Page{}, err
	}
	return p, nil
}

// Cut takes the items read for p.Fetch() and returns those of the page and the
// cursor of the next page, "" when this page is the last.
func (l List[T]) Cut(p Page, items []T) ([]T, string) {
	if len(items) <= p.Limit {
		return items, ""
	}
	items = items[:p.Limit]
	return items, l.Encode(l.key(items[len(items)-1]))
}

// Encode gives the opaque form of a cursor of this list.
func (l List[T]) Encode(c Cursor) string {
	wire := make([]string, 0, len(c)+1)
	wire = append(wire, l.name)
	for _, v := range c {
		switch v := v.(type) {
		case int64:
			wire = append(wire, strconv.FormatInt(v, 10))
		case string:
			wire = append(wire, v)
		default:
			panic("vippsmgmt: a cursor value is an int64 or a string")
		}
	}
	b, _ := json.Marshal(wire)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode reads a cursor made by Encode for this list; false for anything Encode could not have
// made, so a cursor from another list or a tampered one never reaches the store.
func (l List[T]) decode(s string) (Cursor, bool) {
	if len(s) > MaxCursorBytes {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var wire []string
	if err := json.Unmarshal(b, &wire); err != nil || len(wire) != len(l.kinds)+1 || wire[0] != l.name {
		return nil, false
	}
	c := make(Cursor, 0, len(l.kinds))
	for i, v := range wire[1:] {
		switch l.kinds[i] {
		case 'i':
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, false
			}
			c = append(c, n)
		default:
			// Neither database can compare a NUL or broken UTF-8; nothing stored holds one.
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) || len(v) > MaxTextBytes {
				return nil, false
			}
			c = append(c, v)
		}
	}
	return c, true
}
