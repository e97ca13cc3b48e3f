package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/httpapi"
	"github.com/vippsmgmt/vippsmgmt/internal/problem"
)

// queueRow is one order in the console lists.
type queueRow struct {
	Order        *vippsmgmt.ProductOrder
	Status       string
	MerchantName string
	PartnerName  string
}

type queuePage struct {
	Queue     []queueRow
	MoreQueue bool // more orders wait than the queue shows
	Recent    []queueRow
}

// queueLimit bounds the orders the queue reads; past it the page says that more are waiting.
const queueLimit = 500

// awaitingDecision reports whether an operator decides the order next: a submitted prefill, or a
// template or manual order that was received.
func awaitingDecision(o *vippsmgmt.ProductOrder, status string) bool {
	return status == vippsmgmt.StatusOrderSubmitted || (o.Type != vippsmgmt.OrderPrefill && status == vippsmgmt.StatusReceived)
}

// rows adds the merchant's and partner's names to orders, looking each up once.
func (p *Portal) rows(r *http.Request, orders []*vippsmgmt.ProductOrder) ([]queueRow, error) {
	ctx := r.Context()
	now := p.clock.Now()
	partners := map[string]string{}
	merchants := map[vippsmgmt.BusinessIdentifier]string{}
	out := make([]queueRow, 0, len(orders))
	for _, o := range orders {
		row := queueRow{Order: o, Status: o.StatusAt(now)}
		if o.PartnerID != nil {
			name, ok := partners[*o.PartnerID]
			if !ok {
				if pa, err := p.store.FindPartnerByID(ctx, *o.PartnerID); err == nil {
					name = pa.Name
				} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
					return nil, err
				}
				partners[*o.PartnerID] = name
			}
			row.PartnerName = name
		}
		name, ok := merchants[o.BusinessIdentifier]
		if !ok {
			if m, err := p.store.FindMerchant(ctx, o.BusinessIdentifier); err == nil {
				name = m.Name
			} else if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
				return nil, err
			}
			merchants[o.BusinessIdentifier] = name
		}
		row.MerchantName = name
		out = append(out, row)
	}
	return out, nil
}

// handleQueue serves GET /console: the orders waiting for a decision, then recent orders.
func (p *Portal) handleQueue(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	pending, err := p.store.FindProductOrders(ctx, vippsmgmt.ProductOrderFilter{
		Statuses: []string{vippsmgmt.StatusOrderSubmitted, vippsmgmt.StatusReceived}, Limit: queueLimit + 1})
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	var pg queuePage
	if len(pending) > queueLimit {
		pending, pg.MoreQueue = pending[:queueLimit], true
	}
	now := p.clock.Now()
	var waiting []*vippsmgmt.ProductOrder
	for _, o := range pending {
		if awaitingDecision(o, o.StatusAt(now)) {
			waiting = append(waiting, o)
		}
	}
	recent, err := p.store.FindProductOrders(ctx, vippsmgmt.ProductOrderFilter{IncludeExpired: true, Limit: 50})
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if pg.Queue, err = p.rows(r, waiting); err != nil {
		p.serverError(w, r, err)
		return
	}
	if pg.Recent, err = p.rows(r, recent); err != nil {
		p.serverError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "queue", p.consoleView(s, "queue", "Orders awaiting a decision", pg))
}

func (p *Portal) consoleView(s *session, nav, title string, data any) view {
	return view{Title: title, Console: true, Sandbox: p.faults != nil, Report: p.reporter != nil, Nav: nav, CSRF: p.formToken(s.csrfScope()), Data: data}
}

type orderPage struct {
	queueRow
	KnownMerchant bool
	PricePackage  *vippsmgmt.PricePackage
	LogoURL       string
	Sections      []section
	Awaiting      bool
	MSN           string
	NewMerchant   string
	Reason        string
}

var flashes = map[string]string{
	"approved": "The order was approved and the sales unit created. The partner and the merchant are notified.",
	"rejected": "The order was rejected. The partner and the merchant are notified.",
}

// showOrder serves GET /console/orders/{id}: an order with its decision forms; msg reports a
// failed decision, whose form values are kept.
func (p *Portal) showOrder(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	ctx := r.Context()
	o, err := p.store.FindProductOrderByID(ctx, r.PathValue("id"))
	if !p.found(w, r, s, err, "queue", "Order not found", "There is no product order "+r.PathValue("id")+".") {
		return
	}
	rows, err := p.rows(r, []*vippsmgmt.ProductOrder{o})
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	pg := orderPage{queueRow: rows[0], KnownMerchant: rows[0].MerchantName != ""}
	pg.Awaiting = awaitingDecision(o, pg.Status)
	if id := o.Details.PricePackageID; id != nil {
		pp, err := p.store.FindPricePackageByID(ctx, *id)
		switch {
		case err == nil:
			pg.PricePackage = pp
		case vippsmgmt.ErrorCode(err) == vippsmgmt.ENOTFOUND:
			pg.PricePackage = &vippsmgmt.PricePackage{ID: *id, Name: *id}
		default:
			p.serverError(w, r, err)
			return
		}
	}
	if o.Details.SalesUnitLogo != nil {
		pg.LogoURL = "/console/orders/" + o.ID + "/logo.png"
	}
	pg.Sections = sections(detailValues(o.Details), nil, o.Details.MerchantName != nil)
	if n := o.Details.MerchantName; n != nil && !pg.KnownMerchant {
		pg.NewMerchant = *n // what the merchant gave; the operator may still change it
	}
	if form != nil {
		pg.MSN, pg.NewMerchant, pg.Reason = form.Get("msn"), form.Get("merchantName"), form.Get("reason")
	}
	v := p.consoleView(s, "queue", "Order "+o.ID, pg)
	v.Error = msg
	if status == http.StatusOK {
		v.Flash = flashes[r.URL.Query().Get("done")]
	}
	p.render(w, r, status, "order", v)
}

// handleOrderLogo serves GET /console/orders/{id}/logo.png.
func (p *Portal) handleOrderLogo(w http.ResponseWriter, r *http.Request, s *session) {
	o, err := p.store.FindProductOrderByID(r.Context(), r.PathValue("id"))
	if !p.found(w, r, s, err, "queue", "Order not found", "There is no product order "+r.PathValue("id")+".") {
		return
	}
	p.writeLogo(w, r, o)
}

// handleApprove serves POST /console/orders/{id}/approve, doing exactly what the operator API does.
func (p *Portal) handleApprove(w http.ResponseWriter, r *http.Request, s *session) {
	a := vippsmgmt.Approval{MSN: strings.TrimSpace(r.PostFormValue("msn")), MerchantName: strings.TrimSpace(r.PostFormValue("merchantName"))}
	if _, _, err := p.store.ApproveProductOrder(r.Context(), r.PathValue("id"), a); err != nil {
		p.decisionFailed(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/orders/"+url.PathEscape(r.PathValue("id"))+"?done=approved", http.StatusSeeOther)
}

// handleReject serves POST /console/orders/{id}/reject.
func (p *Portal) handleReject(w http.ResponseWriter, r *http.Request, s *session) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := p.store.StepProductOrder(r.Context(), r.PathValue("id"), vippsmgmt.StepReject, nil, reason); err != nil {
		p.decisionFailed(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/orders/"+url.PathEscape(r.PathValue("id"))+"?done=rejected", http.StatusSeeOther)
}

func (p *Portal) decisionFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if !isDomain(err) {
		p.serverError(w, r, err)
		return
	}
	p.showOrder(w, r, s, problem.Status(vippsmgmt.ErrorCode(err)), errorText(err), r.PostForm)
}

type outboxPage struct {
	Notifications []*vippsmgmt.Notification
	Pager         pager
}

// handleOutbox serves GET /console/outbox.
func (p *Portal) handleOutbox(w http.ResponseWriter, r *http.Request, s *session) {
	find := func(page vippsmgmt.Page) ([]*vippsmgmt.Notification, error) {
		return p.store.FindNotifications(r.Context(), page)
	}
	ns, links, ok := listPage(p, w, r, s, "outbox", vippsmgmt.NotificationList, find)
	if !ok {
		return
	}
	p.render(w, r, http.StatusOK, "outbox", p.consoleView(s, "outbox", "Outbox", outboxPage{Notifications: ns, Pager: links}))
}

type requestsPage struct {
	Records []httpapi.RequestRecord
	Pager   pager
}

// handleRequests serves GET /console/requests: recent API requests, as the request log keeps them
// (no secrets, tokens or bodies).
// ?id= shows one request (the integration report links its examples so).
func (p *Portal) handleRequests(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.URL.Query().Get("id")
	if id == "" {
		find := func(page vippsmgmt.Page) ([]httpapi.RequestRecord, error) { return p.requests(page), nil }
		recs, links, ok := listPage(p, w, r, s, "requests", httpapi.RequestList, find)
		if !ok {
			return
		}
		p.render(w, r, http.StatusOK, "requests", p.consoleView(s, "requests", "Recent API requests", requestsPage{Records: recs, Pager: links}))
		return
	}
	var found requestsPage
	// The log is bounded (httpapi.DefaultRequestLogRecords), so reading all of it is too.
	for _, rec := range p.requests(vippsmgmt.Page{}) {
		if rec.RequestID == id {
			found.Records = append(found.Records, rec)
		}
	}
	v := p.consoleView(s, "requests", "Request "+id, found)
	if len(found.Records) == 0 {
		v.Flash = "Request " + id + " is no longer in this server's request log, which keeps only the latest requests (or another server process answered it)."
	}
	p.render(w, r, http.StatusOK, "requests", v)
}
