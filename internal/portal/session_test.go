package portal

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/pgtest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// consoleServer serves a portal over st with token as its admin token on loopback, as one server
// process would.
func consoleServer(t *testing.T, st *sqlstore.DB, token string) *httptest.Server {
	t.Helper()
	p, err := New(Deps{Store: st, Clock: storetest.NewClock(storetest.Start), Hasher: shaHasher{}, AdminToken: token,
		PublicURL: "http://example.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consoleGet fetches path with the cookie and returns the status and the parsed page.
func consoleGet(t *testing.T, srv *httptest.Server, path string, c *http.Cookie) (int, *node) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if c != nil {
		req.AddCookie(c)
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, parseHTML(t, string(body))
}

func consolePost(t *testing.T, srv *httptest.Server, path string, c *http.Cookie, v url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.AddCookie(c)
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func signIn(t *testing.T, srv *httptest.Server, token string) *http.Cookie {
	t.Helper()
	_, doc := consoleGet(t, srv, "/console/login", nil)
	v := formValues(doc.One(t, "form"))
	v.Set("token", token)
	res := consolePost(t, srv, "/console/login", nil, v)
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in: status %d, no session cookie", res.StatusCode)
	return nil
}

func signOut(t *testing.T, srv *httptest.Server, c *http.Cookie) {
	t.Helper()
	status, doc := consoleGet(t, srv, "/console", c)
	if status != http.StatusOK {
		t.Fatalf("console before sign-out: %d", status)
	}
	if res := consolePost(t, srv, "/console/logout", c, formValues(doc.One(t, "form.logout"))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
}

// signedIn tells whether the console accepts the cookie.
func signedIn(t *testing.T, srv *httptest.Server, c *http.Cookie) bool {
	t.Helper()
	status, _ := consoleGet(t, srv, "/console", c)
	return status == http.StatusOK
}

func openStore(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), dsn, storetest.NewClock(storetest.Start))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConsoleSignOutHoldsAcrossRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	st := openStore(t, dsn)
	srv := consoleServer(t, st, adminToken)
	out, kept := signIn(t, srv, adminToken), signIn(t, srv, adminToken)
	signOut(t, srv, out)
	srv.Close()
	st.Close()

	st = openStore(t, dsn)
	srv = consoleServer(t, st, adminToken)
	if signedIn(t, srv, out) {
		t.Error("a signed-out cookie works again after a restart")
	}
	if !signedIn(t, srv, kept) {
		t.Error("a live session ended with the restart")
	}
}

func TestConsoleSignOutHoldsAcrossProcesses(t *testing.T) {
	dsn := pgtest.DSN(t)
	one := consoleServer(t, openStore(t, dsn), adminToken)
	two := consoleServer(t, openStore(t, dsn), adminToken)
	c := signIn(t, one, adminToken)
	if !signedIn(t, two, c) {
		t.Fatal("the other server does not accept a session of the first")
	}
	signOut(t, one, c)
	if signedIn(t, two, c) {
		t.Error("the other server accepts a cookie signed out on the first")
	}
	if signedIn(t, one, c) {
		t.Error("the server accepts a cookie signed out on it")
	}
}

func TestConsoleAdminTokenChangeEndsSessions(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	st := openStore(t, dsn)
	c := signIn(t, consoleServer(t, st, adminToken), adminToken)
	srv := consoleServer(t, st, "another-admin-token")
	if signedIn(t, srv, c) {
		t.Error("a session issued under the old admin token works under the new one")
	}
	fresh := signIn(t, srv, "another-admin-token")
	if !signedIn(t, srv, fresh) {
		t.Error("a session under the new admin token does not work")
	}
	// Back to the old token: its sessions stay ended, they were deleted at the new sign-in.
	if signedIn(t, consoleServer(t, st, adminToken), c) {
		t.Error("a session of an earlier admin token came back")
	}
}

func TestConsoleSessionCookieIsNotStored(t *testing.T) {
	st := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "db"))
	c := signIn(t, consoleServer(t, st, adminToken), adminToken)
	var n int
	if err := st.SQL().QueryRow(`SELECT count(*) FROM console_sessions WHERE id_hash = ? OR token_fingerprint = ?`, c.Value, []byte(c.Value)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the session id is stored as is")
	}
	if err := st.SQL().QueryRow(`SELECT count(*) FROM console_sessions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions stored: %d, %v", n, err)
	}
}
