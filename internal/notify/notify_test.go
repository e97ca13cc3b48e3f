package notify

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlitetest"
	"github.com/vippsmgmt/vippsmgmt/internal/sqlstore"
	"github.com/vippsmgmt/vippsmgmt/internal/storetest"
)

// smtpServer is a tiny SMTP server on 127.0.0.1 speaking EHLO, MAIL, RCPT, DATA, RSET, NOOP and QUIT.
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []received
	refuse   func(to string) bool // RCPT to an address it refuses gets 550
	hangUp   bool                 // QUIT closes the connection without a reply
	wg       sync.WaitGroup
}

type received struct {
	From string
	To   []string
	Data string
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) url() string { return "smtp://" + s.ln.Addr().String() }

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

// refuseRcpt makes the server refuse the recipients refuse picks; nil accepts all.
func (s *smtpServer) refuseRcpt(refuse func(to string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = refuse
}

func (s *smtpServer) refuses(to string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refuse != nil && s.refuse(to)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 test ESMTP ready")
	var msg received
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test greets you")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			from, _, _ := strings.Cut(strings.TrimSpace(line[len("MAIL FROM:"):]), ">")
			msg = received{From: strings.TrimPrefix(from, "<")}
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			to := strings.Trim(line[len("RCPT TO:"):], "<> ")
			if s.refuses(to) {
				say("550 no such mailbox")
				continue
			}
			msg.To = append(msg.To, to)
			say("250 OK")
		case cmd == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			msg.Data = b.String()
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "RSET", cmd == "NOOP":
			say("250 OK")
		case cmd == "QUIT":
			s.mu.Lock()
			hangUp := s.hangUp
			s.mu.Unlock()
			if !hangUp {
				say("221 bye")
			}
			return
		default:
			say("502 not implemented")
		}
	}
}

// outbox is a real SQLite store whose notifications come from deciding real orders, as the
// server queues them: partner acme and merchant 912345688 are there to decide orders for.
type outbox struct {
	t     *testing.T
	store *sqlstore.DB
}

const (
	merchantID   = "912345688"
	merchantName = "Kiosk & Café Ålesund"
)

func newOutbox(t *testing.T) *outbox {
	t.Helper()
	b := &outbox{t: t, store: sqlitetest.Open(t, storetest.NewClock(storetest.Start))}
	b.must(b.store.UpsertPartner(t.Context(), &vippsmgmt.Partner{ID: "acme", Name: "Acme Partner AS"}))
	b.must(b.store.UpsertMerchant(t.Context(), &vippsmgmt.Merchant{BusinessIdentifier: bid(merchantID), Name: merchantName,
		Status: vippsmgmt.MerchantActive, CountryCode: "NO"}))
	return b
}

func bid(id string) vippsmgmt.BusinessIdentifier {
	return vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: id}
}

func (b *outbox) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// submitted creates an order of acme for the merchant and submits it.
func (b *outbox) submitted() *vippsmgmt.ProductOrder {
	b.t.Helper()
	ctx := b.t.Context()
	name := "Kiosk Café Ålesund"
	o := &vippsmgmt.ProductOrder{Type: vippsmgmt.OrderPrefill, PartnerID: new("acme"), BusinessIdentifier: bid(merchantID),
		ProductType: "CHECKOUT", Details: vippsmgmt.OrderDetails{SalesUnitName: &name}}
	_, _, err := b.store.CreateProductOrder(ctx, o, nil)
	b.must(err)
	o, err = b.store.StepProductOrder(ctx, o.ID, vippsmgmt.StepSubmit, nil, "")
	b.must(err)
	return o
}

// approve approves a new order, which queues a notification to the partner and one to the merchant.
func (b *outbox) approve() *vippsmgmt.ProductOrder {
	b.t.Helper()
	o, _, err := b.store.ApproveProductOrder(b.t.Context(), b.submitted().ID, vippsmgmt.Approval{})
	b.must(err)
	return o
}

// reject rejects a new order, which queues two notifications too.
func (b *outbox) reject() {
	b.t.Helper()
	_, err := b.store.StepProductOrder(b.t.Context(), b.submitted().ID, vippsmgmt.StepReject, nil, "incomplete")
	b.must(err)
}

// notes lists the outbox oldest first, as the store holds it now.
func (b *outbox) notes() []*vippsmgmt.Notification {
	b.t.Helper()
	ns, err := b.store.FindNotifications(b.t.Context(), vippsmgmt.Page{})
	b.must(err)
	slices.Reverse(ns)
	return ns
}

// find returns the notification to the recipient ("partner" or "merchant") among ns.
func find(t *testing.T, ns []*vippsmgmt.Notification, recipient string) *vippsmgmt.Notification {
	t.Helper()
	for _, n := range ns {
		if n.Recipient == recipient {
			return n
		}
	}
	t.Fatalf("no notification to the %s among %d", recipient, len(ns))
	return nil
}

func TestRunSendsOutbox(t *testing.T) {
	srv := newSMTPServer(t)
	b := newOutbox(t)
	o := b.approve()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, b.store, srv.url(), "Vippsmgmt <noreply@mail.example>", slog.New(slog.NewTextHandler(io.Discard, nil)), 10*time.Millisecond)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.received()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done

	got := srv.received()
	if len(got) != 2 {
		t.Fatalf("received %d messages, want 2", len(got))
	}
	wantTo := []string{"partner-acme@mail.example", "merchant-912345688@mail.example"}
	wantSubject := "Product order approved: " + merchantName + ", MSN " + o.SalesUnit.MSN
	for i, m := range got {
		if m.From != "noreply@mail.example" {
			t.Errorf("MAIL FROM %q", m.From)
		}
		if len(m.To) != 1 || m.To[0] != wantTo[i] {
			t.Errorf("message %d RCPT TO %v, want %s", i, m.To, wantTo[i])
		}
		msg, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := msg.Header.Get("X-Vippsmgmt-Order"); got != o.ID {
			t.Errorf("message %d order %q, want %s", i, got, o.ID)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subj != wantSubject {
			t.Errorf("subject %q (%v), want %q", subj, err, wantSubject)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil || !strings.Contains(string(body), "Merchant name: "+merchantName) || !strings.Contains(string(body), "MSN: "+o.SalesUnit.MSN) {
			t.Errorf("body %q (%v)", body, err)
		}
	}
	for _, n := range b.notes() {
		if n.SentAt == nil || n.Attempts != 1 || n.LastError != "" {
			t.Errorf("notification to the %s: sent %v attempts %d error %q", n.Recipient, n.SentAt, n.Attempts, n.LastError)
		}
	}
}

// TestSendPendingRetriesThenGivesUp: a refused notification is recorded and tried again at each
// send until MaxAttempts, then left alone; the one that went out is not sent again.
func TestSendPendingRetriesThenGivesUp(t *testing.T) {
	srv := newSMTPServer(t)
	srv.refuseRcpt(func(to string) bool { return to == "merchant-912345688@mail.example" })
	b := newOutbox(t)
	b.approve()
	c, err := ParseConfig(srv.url(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.SendPending(t.Context(), b.store)
	if err != nil || n != 1 {
		t.Fatalf("SendPending: %d, %v; want 1 sent", n, err)
	}
	ns := b.notes()
	if got := find(t, ns, "merchant"); got.SentAt != nil || got.Attempts != 1 || !strings.Contains(got.LastError, "550") {
		t.Errorf("refused notification: %+v", got)
	}
	if got := find(t, ns, "partner"); got.SentAt == nil || got.Attempts != 1 {
		t.Errorf("partner notification: %+v", got)
	}

	for attempt := 2; attempt <= MaxAttempts; attempt++ {
		if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 0 {
			t.Fatalf("SendPending, attempt %d: %d, %v; want 0 sent", attempt, n, err)
		}
		if got := find(t, b.notes(), "merchant").Attempts; got != attempt {
			t.Fatalf("attempts %d, want %d", got, attempt)
		}
	}
	// Given up on: not tried again, even once the server would take it.
	srv.refuseRcpt(nil)
	if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 0 {
		t.Errorf("SendPending after MaxAttempts: %d, %v; want 0 sent", n, err)
	}
	ns = b.notes()
	if got := find(t, ns, "merchant"); got.Attempts != MaxAttempts || got.SentAt != nil {
		t.Errorf("given-up notification: attempts %d sent %v, want %d, not sent", got.Attempts, got.SentAt, MaxAttempts)
	}
	if got := find(t, ns, "partner"); got.Attempts != 1 {
		t.Errorf("sent notification tried %d times, want 1", got.Attempts)
	}
	if got := len(srv.received()); got != 1 {
		t.Errorf("received %d messages, want 1", got)
	}
}

// TestSendPendingQuitFails: a message the server has taken (250 after the data) is sent, even if
// the connection then breaks at QUIT; counting it as failed sent it again at the next try.
func TestSendPendingQuitFails(t *testing.T) {
	srv := newSMTPServer(t)
	srv.mu.Lock()
	srv.hangUp = true
	srv.mu.Unlock()
	b := newOutbox(t)
	b.approve()
	c, err := ParseConfig(srv.url(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 2 {
		t.Errorf("SendPending: %d, %v; want 2 sent", n, err)
	}
	if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 0 {
		t.Errorf("SendPending again: %d, %v; want nothing left to send", n, err)
	}
	for _, n := range b.notes() {
		if n.SentAt == nil || n.Attempts != 1 || n.LastError != "" {
			t.Errorf("notification to the %s: sent %v attempts %d error %q", n.Recipient, n.SentAt, n.Attempts, n.LastError)
		}
	}
	if got := len(srv.received()); got != 2 {
		t.Errorf("received %d messages, want 2", got)
	}
}

// TestSendStopsWithContext: a server that stops answering holds Send only until its context ends,
// so shutting down does not wait out sendTimeout for it.
func TestSendStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The server greets, reads EHLO, then says nothing more.
	helloed := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.WriteString(conn, "220 test ESMTP ready\r\n")
		if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
			helloed <- conn
		}
	}()
	t.Cleanup(func() { ln.Close() })
	c, err := ParseConfig("smtp://"+ln.Addr().String(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		sent <- c.Send(ctx, "partner-acme@mail.example", &vippsmgmt.Notification{Subject: "s", Body: "b"})
	}()
	conn := <-helloed // Send waits for the answer to EHLO
	defer conn.Close()
	cancel()
	if err := <-sent; !errors.Is(err, context.Canceled) {
		t.Errorf("Send: got %v, want an error for the canceled context", err)
	}
}

func TestSendPendingUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := ParseConfig("smtp://"+addr, "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	b := newOutbox(t)
	b.approve()
	if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 0 {
		t.Errorf("unreachable: %d, %v; want 0 sent, no error", n, err)
	}
	for _, n := range b.notes() {
		if n.LastError == "" || n.SentAt != nil || n.Attempts != 1 {
			t.Errorf("unreachable server not recorded on the %s's: %+v", n.Recipient, n)
		}
	}
}

// TestSendPendingPastGivenUp: after more failures than a batch holds, the notifications given up
// on stay unsent at the front of the outbox, and the ones queued behind them still go out.
func TestSendPendingPastGivenUp(t *testing.T) {
	srv := newSMTPServer(t)
	srv.refuseRcpt(func(string) bool { return true })
	b := newOutbox(t)
	for range batch/2 + 3 {
		b.reject()
	}
	c, err := ParseConfig(srv.url(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	// Each send tries a batch; enough of them try every notification MaxAttempts times.
	for i := 0; ; i++ {
		if i > 2*MaxAttempts {
			t.Fatalf("after %d sends, notifications are still short of MaxAttempts tries: the sender stalls", i)
		}
		left, err := b.store.FindUnsentNotifications(t.Context(), MaxAttempts, 0)
		b.must(err)
		if len(left) == 0 {
			break
		}
		if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 0 {
			t.Fatalf("SendPending while refused: %d, %v", n, err)
		}
	}
	given := b.notes()
	if len(given) <= batch {
		t.Fatalf("%d notifications given up on, want more than a batch (%d)", len(given), batch)
	}

	srv.refuseRcpt(nil)
	o := b.approve()
	if n, err := c.SendPending(t.Context(), b.store); err != nil || n != 2 {
		t.Fatalf("SendPending: %d, %v; want 2 sent", n, err)
	}
	for _, n := range b.notes() {
		if sent := n.SentAt != nil; sent != (n.OrderID == o.ID) {
			t.Errorf("notification %d of order %s: sent %v attempts %d", n.ID, n.OrderID, sent, n.Attempts)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		url, from string
		want      Config
		wantErr   bool
	}{
		{"smtp://mail:2525", "a@b.example", Config{Addr: "mail:2525", Host: "mail", From: "a@b.example", Domain: "b.example"}, false},
		{"smtp://u:p%40ss@mail", "Ops <ops@x.example>", Config{Addr: "mail:25", Host: "mail", Username: "u", Password: "p@ss", From: "ops@x.example", Domain: "x.example"}, false},
		{"smtp://mail:25", "", Config{Addr: "mail:25", Host: "mail", From: "vippsmgmt@localhost", Domain: "localhost"}, false},
		{"http://mail:25", "a@b.example", Config{}, true},
		{"smtp://mail:25", "not an address", Config{}, true},
	}
	for _, tt := range tests {
		got, err := ParseConfig(tt.url, tt.from)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseConfig(%q, %q) = %+v, %v; want %+v, err %v", tt.url, tt.from, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestParseConfigHidesPassword: the error of an SMTP URL that does not parse is logged, so it
// must not carry the password the URL holds.
func TestParseConfigHidesPassword(t *testing.T) {
	for _, u := range []string{
		"smtp://user:s3cretpw@mail:xx",
		"smtp://user:s3cretpw@ma il:25",
		"smtp://user:s3cretpw%zz@mail:25",
		"smtp://user:s3cretpw@mail:25\x7f",
	} {
		_, err := ParseConfig(u, "a@b.example")
		if err == nil {
			t.Errorf("ParseConfig(%q): no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("ParseConfig(%q) error shows the password: %v", u, err)
		}
	}
}

func TestRecipient(t *testing.T) {
	c := Config{Domain: "mail.example"}
	p := "we ird/partner"
	o := &vippsmgmt.ProductOrder{PartnerID: &p, BusinessIdentifier: vippsmgmt.BusinessIdentifier{ID: "123-456"}}
	for _, tt := range []struct {
		n    vippsmgmt.Notification
		o    *vippsmgmt.ProductOrder
		want string
	}{
		{vippsmgmt.Notification{Recipient: "partner"}, o, "partner-we-ird-partner@mail.example"},
		{vippsmgmt.Notification{Recipient: "merchant"}, o, "merchant-123-456@mail.example"},
		{vippsmgmt.Notification{Recipient: "merchant"}, nil, "merchant-unknown@mail.example"},
		{vippsmgmt.Notification{Recipient: "partner"}, nil, "partner-unknown@mail.example"},
	} {
		if got := c.Recipient(&tt.n, tt.o); got != tt.want {
			t.Errorf("Recipient(%s) = %q, want %q", tt.n.Recipient, got, tt.want)
		}
	}
}
