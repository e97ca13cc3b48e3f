package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/credentials"
)

type partnersPage struct {
	Q        string
	Partners []*vippsmgmt.Partner
	Pager    pager
	Form     url.Values
}

// showPartners serves GET /console/partners, and shows the list again after a failed form.
func (p *Portal) showPartners(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values) {
	pg := partnersPage{Form: form}
	var ok bool
	pg.Q, pg.Partners, pg.Pager, ok = searchPage(p, w, r, s, "partners", vippsmgmt.PartnerList, func(q string, page vippsmgmt.Page) ([]*vippsmgmt.Partner, error) {
		return p.store.FindPartners(r.Context(), vippsmgmt.PartnerFilter{Query: q, Limit: page.Limit, After: page.After})
	})
	if !ok {
		return
	}
	p.render(w, r, status, "partners", p.formView(r, s, msg, "partners", "Partners", pg))
}

// handlePartnerCreate serves POST /console/partners.
func (p *Portal) handlePartnerCreate(w http.ResponseWriter, r *http.Request, s *session) {
	pa := &vippsmgmt.Partner{ID: strings.TrimSpace(r.PostFormValue("partnerId")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	retry := func(status int, msg string) { p.showPartners(w, r, s, status, msg, r.PostForm) }
	if err := p.store.CreatePartner(r.Context(), pa); err != nil {
		p.failed(w, r, err, retry)
		return
	}
	redirect(w, r, "/console/partners/"+url.PathEscape(pa.ID), "created")
}

type partnerPage struct {
	Partner       *vippsmgmt.Partner
	Keys          []*vippsmgmt.APIKey
	PricePackages []*vippsmgmt.PricePackage
	MoreKeys      bool // more key sets than the page shows
	MorePackages  bool // more price packages than the page shows
	Issued        *credentials.Issued
	Form          url.Values
}

// handlePartner serves GET /console/partners/{id}: the partner, its key sets and price packages.
func (p *Portal) handlePartner(w http.ResponseWriter, r *http.Request, s *session) {
	p.showPartner(w, r, s, http.StatusOK, "", nil, nil)
}

func (p *Portal) showPartner(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form url.Values, issued *credentials.Issued) {
	ctx := r.Context()
	pa, err := p.store.FindPartnerByID(ctx, r.PathValue("id"))
	if !p.found(w, r, s, err, "partners", "Partner not found", "There is no partner "+r.PathValue("id")+".") {
		return
	}
	pg := partnerPage{Partner: pa, Issued: issued, Form: form}
	if pg.Keys, err = p.store.FindAPIKeys(ctx, pa.ID, "", vippsmgmt.Page{Limit: pageSize + 1}); err != nil {
		p.serverError(w, r, err)
		return
	}
	pg.Keys, pg.MoreKeys = firstRows(pg.Keys)
	if pg.PricePackages, err = p.store.FindPricePackages(ctx, vippsmgmt.PricePackageFilter{PartnerID: pa.ID, Limit: pageSize + 1}); err != nil {
		p.serverError(w, r, err)
		return
	}
	pg.PricePackages, pg.MorePackages = firstRows(pg.PricePackages)
	p.render(w, r, status, "partner", p.formView(r, s, msg, "partners", "Partner "+pa.Name, pg))
}

// handlePartnerRename serves POST /console/partners/{id}.
func (p *Portal) handlePartnerRename(w http.ResponseWriter, r *http.Request, s *session) {
	pa, err := p.store.RenamePartner(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) { p.showPartner(w, r, s, status, msg, r.PostForm, nil) })
		return
	}
	redirect(w, r, "/console/partners/"+url.PathEscape(pa.ID), "saved")
}

// handlePartnerKeyIssue serves POST /console/partners/{id}/keys. The secrets are shown in this
// response only; the store keeps hashes.
func (p *Portal) handlePartnerKeyIssue(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.PostFormValue("kind")
	retry := func(status int, msg string) { p.showPartner(w, r, s, status, msg, r.PostForm, nil) }
	if kind != vippsmgmt.KeyPartner && kind != vippsmgmt.KeyManagement {
		retry(http.StatusBadRequest, "kind: must be partner or management")
		return
	}
	is, err := credentials.Issue(r.Context(), p.store, p.hasher, kind, r.PathValue("id"), "", strings.TrimSpace(r.PostFormValue("clientId")))
	if err != nil {
		p.failed(w, r, err, retry)
		return
	}
	p.showPartner(w, r, s, http.StatusOK, "", nil, is)
}

// handleKeyRevoke serves POST /console/keys/{clientId}/revoke, then drops the key from the auth
// cache so its tokens stop working at once rather than when the cache expires.
func (p *Portal) handleKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("clientId")
	ctx := r.Context()
	k, err := p.store.FindAPIKeyByClientID(ctx, id)
	if err == nil {
		err = p.store.RevokeAPIKey(ctx, id)
	}
	if err != nil {
		p.failed(w, r, err, func(status int, msg string) {
			p.render(w, r, status, "message", p.consoleView(s, "partners", "Key set not revoked", message{Text: msg}))
		})
		return
	}
	p.forgetKey(id)
	p.logger.InfoContext(ctx, "api key revoked in console", "client_id", id)
	back := "/console/partners"
	if k.PartnerID != nil {
		back += "/" + url.PathEscape(*k.PartnerID)
	} else if k.MSN != nil {
		back = "/console/sales-units/" + url.PathEscape(*k.MSN)
	}
	redirect(w, r, back, "revoked")
}
