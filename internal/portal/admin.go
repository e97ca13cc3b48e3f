package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// pageSize is how many rows a console list shows at a time; its "Next page" link shows the next
// ones, and the search box narrows them.
const pageSize = 200

// pager is the navigation of a console list: the address of its next page ("" on the last page)
// and, on a later page, of its first.
type pager struct {
	Next, First string
}

// partnerChoices reads the partners a form's drop-down offers: all of them, up to pageSize. With
// more, typed is true and the form takes the partner id as text instead, so that no page grows
// with the number of partners.
func (p *Portal) partnerChoices(ctx context.Context) (ps []*vippsmgmt.Partner, typed bool, err error) {
	ps, err = p.store.FindPartners(ctx, vippsmgmt.PartnerFilter{Limit: pageSize + 1})
	if len(ps) > pageSize {
		return nil, true, err
	}
	return ps, false, err
}

// firstRows keeps the first pageSize rows of a list shown inside another page, which has no pages
// of its own, read with a limit of pageSize+1; more tells that rows were left out.
func firstRows[T any](rows []T) (first []T, more bool) {
	if len(rows) > pageSize {
		return rows[:pageSize], true
	}
	return rows, false
}

// listPage reads with find the page of list l that the request asks for with ?cursor=: pageSize
// rows after the cursor, and the links to the pages around it. A cursor the list did not give out
// (a link cut short, edited) answers a 400 page, a failed read a 500 page, and ok is false.
func listPage[T any](p *Portal, w http.ResponseWriter, r *http.Request, s *session, nav string, l vippsmgmt.List[T], find func(vippsmgmt.Page) ([]T, error)) (rows []T, links pager, ok bool) {
	limit, cursor := pageSize, r.URL.Query().Get("cursor")
	page, err := l.ParsePage(&limit, &cursor)
	if err != nil {
		p.render(w, r, http.StatusBadRequest, "message", p.consoleView(s, nav, "Page link not valid",
			message{Text: "This page link is not one the console made: it may have been cut short. Start again from the list's first page."}))
		return nil, links, false
	}
	if rows, err = find(page.Fetch()); err != nil {
		p.serverError(w, r, err)
		return nil, links, false
	}
	rows, next := l.Cut(page, rows)
	return rows, pagerOf(r, next), true
}

// pagerOf links the pages of the list on r: next is the cursor of the page after this one, as
// List.Cut gives it. The links keep the list's other parameters (the search).
func pagerOf(r *http.Request, next string) pager {
	q := r.URL.Query()
	q.Del("done")
	later := q.Get("cursor") != ""
	q.Del("cursor")
	var pg pager
	if later {
		pg.First = "?" + q.Encode()
	}
	if next != "" {
		q.Set("cursor", next)
		pg.Next = "?" + q.Encode()
	}
	return pg
}

// searchPage is listPage for a list with a search box: q is the request's ?q=, trimmed, and find
// reads a page of the rows it matches.
func searchPage[T any](p *Portal, w http.ResponseWriter, r *http.Request, s *session, nav string, l vippsmgmt.List[T], find func(q string, page vippsmgmt.Page) ([]T, error)) (q string, rows []T, links pager, ok bool) {
	q = strings.TrimSpace(r.URL.Query().Get("q"))
	if !p.validParam(w, r, s, nav, "search", q) {
		return q, nil, links, false
	}
	rows, links, ok = listPage(p, w, r, s, nav, l, func(page vippsmgmt.Page) ([]T, error) { return find(q, page) })
	return q, rows, links, ok
}

// validParam reports whether the query parameter value is text a store can search for (PostgreSQL
// cannot hold a NUL, nor bytes that are not UTF-8). If not, it has answered a 400 page saying
// what is wrong with the what (search, client id).
func (p *Portal) validParam(w http.ResponseWriter, r *http.Request, s *session, nav, what, value string) bool {
	msg := vippsmgmt.TextProblem(value, false)
	if msg == "" {
		return true
	}
	p.render(w, r, http.StatusBadRequest, "message", p.consoleView(s, nav, "Search not valid",
		message{Text: "The " + what + " " + msg + ". Change it and try again."}))
	return false
}

// formView is the console view of a page that holds forms: msg is the error that sent a form back
// to it, and the request's ?done= says what the last form did.
func (p *Portal) formView(r *http.Request, s *session, msg, nav, title string, data any) view {
	v := p.consoleView(s, nav, title, data)
	v.Error, v.Flash = msg, doneText[r.URL.Query().Get("done")]
	return v
}

// found reports whether a read of the one thing a page shows succeeded. If not, it has answered:
// a 404 page titled missing saying text for ENOTFOUND, a 500 page for any other error.
func (p *Portal) found(w http.ResponseWriter, r *http.Request, s *session, err error, nav, missing, text string) bool {
	switch {
	case vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND:
		p.render(w, r, http.StatusNotFound, "message", p.consoleView(s, nav, missing, message{Text: text}))
		return false
	case err != nil:
		p.serverError(w, r, err)
		return false
	}
	return true
}

// formPage shows a console page that holds forms. After a form failed, status and msg say why and
// form keeps the values sent; else they are http.StatusOK, "" and nil.
type formPage func(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values)

// serve answers the page's GET route: the page with no form failed.
func (f formPage) serve(w http.ResponseWriter, r *http.Request, s *session) {
	f(w, r, s, http.StatusOK, "", nil)
}

// failed reports a domain error on the page it came from, with its status; anything else is a 500.
func (p *Portal) failed(w http.ResponseWriter, r *http.Request, err error, retry func(status int, msg string)) {
	if !isDomain(err) {
		p.serverError(w, r, err)
		return
	}
	retry(problem.Status(vippsmgmt.ErrorCode(err)), errorText(err))
}

func redirect(w http.ResponseWriter, r *http.Request, path string, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

var doneText = map[string]string{
	"created": "Created.", "saved": "Saved.", "revoked": "The key set was revoked; it stops working at once.",
}
