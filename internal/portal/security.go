package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

const (
	sessionCookie = "vippsmgmt_console"
	// SessionLifetime is how long a console sign-in lasts. It runs on wall time, not on the
	// sandbox clock, so advancing the clock in a test does not sign the operator out.
	SessionLifetime = 12 * time.Hour
	csrfField       = "csrf"
)

// deriveKey gives each purpose its own key, so a form token can never pass as a session.
func deriveKey(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

// formToken is the hidden token of a form: an HMAC over what the form acts on (an order id, or
// the console session's nonce), so another site cannot produce one.
func (p *Portal) formToken(scope string) string {
	return base64.RawURLEncoding.EncodeToString(mac(p.formKey, "form", scope))
}

func (p *Portal) validFormToken(r *http.Request, scope string) bool {
	got, err := base64.RawURLEncoding.DecodeString(r.PostFormValue(csrfField))
	return err == nil && hmac.Equal(got, mac(p.formKey, "form", scope))
}

// session is a signed-in console session. Its id lives only in the cookie; the database keeps
// the id's hash, so a copy of the database holds nothing to sign in with.
type session struct {
	IDHash  []byte
	Expires time.Time
}

func (s *session) csrfScope() string { return "console:" + hex.EncodeToString(s.IDHash) }

func sessionIDHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// newSession stores a new session and returns its cookie value: 32 random bytes, base64url.
func (p *Portal) newSession(ctx context.Context, now time.Time) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	now = now.UTC().Truncate(time.Microsecond)
	err := p.store.CreateConsoleSession(ctx, &vippsmgmt.ConsoleSession{
		IDHash: sessionIDHash(id), TokenFingerprint: p.tokenFingerprint, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)})
	return id, err
}

// sessionFrom returns the cookie's session if the database has it, issued under the current admin
// token and not expired; nil otherwise (and on a database error, which is logged).
func (p *Portal) sessionFrom(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != sessionIDLength {
		return nil
	}
	cs, err := p.store.FindConsoleSession(r.Context(), sessionIDHash(c.Value), p.tokenFingerprint, time.Now())
	if err != nil {
		if vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			p.logger.ErrorContext(r.Context(), "console session lookup failed", "error", err)
		}
		return nil
	}
	return &session{IDHash: cs.IDHash, Expires: cs.ExpiresAt}
}

// sessionIDLength is the length of a session cookie's value: 32 bytes in unpadded base64url.
const sessionIDLength = 43

// secure tells whether cookies must be Secure: the request came over TLS or the public URL is https.
func (p *Portal) secure(r *http.Request) bool { return r.TLS != nil || p.secureURL }

func (p *Portal) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: p.secure(r),
	})
}

type consoleHandler func(w http.ResponseWriter, r *http.Request, s *session)

// console requires a session (otherwise 303 to the login page) and, for POSTs, the session's form
// token.
func (p *Portal) console(next consoleHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := p.sessionFrom(r)
		if s == nil {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := parseForm(r); err != nil {
				p.formReadFailed(w, r, err)
				return
			}
			if !p.validFormToken(r, s.csrfScope()) {
				p.renderMessage(w, r, http.StatusForbidden, "Request refused",
					"The form's security token is missing or out of date. Open the page again and retry.")
				return
			}
		}
		next(w, r, s)
	}
}

// errFormCharset is a form whose Content-Type names a charset other than UTF-8: its values
// would be read as UTF-8 all the same and stored as something else than was typed.
var errFormCharset = errors.New("form charset is not UTF-8")

// parseForm reads a urlencoded or multipart body sent in UTF-8, the pages' own charset.
func parseForm(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if _, params, err := mime.ParseMediaType(ct); err == nil {
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			return errFormCharset
		}
	}
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		err = r.ParseMultipartForm(maxLogoBytes)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return err
	}
	// No page's form sends a field twice; a request that does would be read by its first value
	// here and perhaps by another one by a proxy or log in front.
	for name, vs := range r.PostForm {
		if len(vs) > 1 {
			return repeatedFieldError(name)
		}
	}
	if r.MultipartForm != nil {
		for name, fs := range r.MultipartForm.File {
			if len(fs) > 1 || len(r.PostForm[name]) > 0 {
				return repeatedFieldError(name)
			}
		}
	}
	return nil
}

// repeatedFieldError is a form that sends the field it names more than once.
type repeatedFieldError string

func (e repeatedFieldError) Error() string { return "form field " + string(e) + " sent more than once" }

// formReadFailed answers a form parseForm could not read: 413 for a body over the server's limit
// (sent without a Content-Length, so only reading it found out), 400 otherwise.
func (p *Portal) formReadFailed(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	var repeated repeatedFieldError
	switch {
	case errors.As(err, &tooLarge):
		p.renderMessage(w, r, http.StatusRequestEntityTooLarge, "Form too large",
			"The form is larger than the "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes this server accepts. A logo must be at most 1 MB.")
	case errors.As(err, &repeated):
		name := string(repeated)
		if len(name) > 64 {
			name = strings.ToValidUTF8(name[:64], "") + "…"
		}
		p.renderMessage(w, r, http.StatusBadRequest, "Bad request",
			"The form sent the field “"+name+"” more than once. Open the page again and submit the form from there.")
	case errors.Is(err, errFormCharset):
		p.renderMessage(w, r, http.StatusBadRequest, "Bad request", "The form must be sent in UTF-8; its Content-Type names another charset.")
	default:
		p.renderMessage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
	}
}

const loginScope = "login"

// handleLogin serves GET /console/login.
func (p *Portal) handleLogin(w http.ResponseWriter, r *http.Request) {
	if p.sessionFrom(r) != nil {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "login", view{Title: "Operator sign-in", Nav: "login", CSRF: p.formToken(loginScope)})
}

// handleLoginSubmit serves POST /console/login: the admin token, compared in constant time.
func (p *Portal) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		p.formReadFailed(w, r, err)
		return
	}
	if !p.validFormToken(r, loginScope) {
		p.renderMessage(w, r, http.StatusForbidden, "Request refused",
			"The sign-in form's security token is missing. Open the sign-in page again.")
		return
	}
	ok, wait := p.guard.Check(r, r.PostFormValue("token"))
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
		p.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Operator sign-in", Nav: "login", CSRF: p.formToken(loginScope),
			Error: "Too many wrong admin tokens from this address. Wait a little and try again."})
		return
	}
	if !ok {
		p.logger.WarnContext(r.Context(), "console sign-in failed", "remote", r.RemoteAddr)
		p.render(w, r, http.StatusUnauthorized, "login", view{Title: "Operator sign-in", Nav: "login", CSRF: p.formToken(loginScope),
			Error: "The admin token is not correct."})
		return
	}
	value, err := p.newSession(r.Context(), time.Now())
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	p.setSessionCookie(w, r, value, int(SessionLifetime.Seconds()))
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// handleLogout serves POST /console/logout. The session is deleted from the database, so the
// cookie stops working everywhere, a copied one too.
func (p *Portal) handleLogout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.store.DeleteConsoleSession(r.Context(), s.IDHash); err != nil {
		p.serverError(w, r, err)
		return
	}
	p.setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
