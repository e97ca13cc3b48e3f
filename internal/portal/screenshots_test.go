package portal_test

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

var screenshots = flag.Bool("screenshots", false, "write docs/screenshots/merchant-form.png and operator-queue.png")

// TestScreenshots writes the README's screenshots from a running server:
//
//	go test ./internal/portal -run TestScreenshots -screenshots
func TestScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("run with -screenshots to write docs/screenshots")
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	b := newBrowser(t)
	p := s.partner(t)
	_, link := p.prefill(t, "999888771")

	shot := func(name string, width, height int64, sel string) {
		t.Helper()
		b.do("set the viewport", chromedp.EmulateViewport(width, height))
		b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.fail("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(png))
	}

	if st := b.load("open the prefill link", chromedp.Navigate(link)); st != http.StatusOK {
		b.fail("prefill link: status %d", st)
	}
	shot("merchant-form.png", 420, 900, "#submit")

	// Submit two more so the queue has something to show beside the demo orders.
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	for _, id := range []string{"999888771", "999888763"} {
		_, link := p.prefill(t, id)
		b.load("open", chromedp.Navigate(link))
		b.load("submit", chromedp.Click(chromedp.ID("submit")))
	}
	if st := b.signIn(s.URL, browserAdmin); st != http.StatusOK {
		b.fail("sign in: status %d", st)
	}
	shot("operator-queue.png", 1280, 800, "h1")
}
