package portal_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// TestOversizedFormIsRefusedWithAPage sends the merchant form and the console sign-in over the server's body limit without
// a Content-Length (chunked), so only reading it finds out: the answer is a 413 HTML page, not a
// 400 saying the form could not be read.
func TestOversizedFormIsRefusedWithAPage(t *testing.T) {
	s := startServer(t)
	_, link := s.partner(t).prefill(t, "987654317")
	big := strings.Repeat("a", 3<<20)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("salesUnitLogo", "logo.png")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte(big))
	_ = mw.Close()
	for _, tc := range []struct {
		name, url, contentType, body string
	}{
		{"urlencoded", link, "application/x-www-form-urlencoded", "salesUnitName=" + big},
		{"multipart", link, mw.FormDataContentType(), mp.String()},
		{"sign-in", s.URL + "/console/login", "application/x-www-form-urlencoded", "token=" + big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A reader of unknown length makes the client send the body chunked.
			req, err := http.NewRequest("POST", tc.url, io.MultiReader(strings.NewReader(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(b), "Form too large") {
				t.Errorf("got %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
			}
		})
	}
}
