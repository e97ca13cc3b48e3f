package notify

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// smtpServer is a tiny SMTP server on 127.0.0.1 speaking EHLO, MAIL, RCPT, DATA, RSET, NOOP and QUIT.
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []received
	rejectTo string // RCPT to this address gets 550
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
			if to == s.rejectTo {
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
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

// fakeStore is the part of the store the sender uses.
type fakeStore struct {
	vippsmgmt.Store
	mu     sync.Mutex
	notes  []*vippsmgmt.Notification
	orders map[string]*vippsmgmt.ProductOrder
}

func (f *fakeStore) FindUnsentNotifications(ctx context.Context, maxAttempts, limit int) ([]*vippsmgmt.Notification, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*vippsmgmt.Notification
	for _, n := range f.notes {
		if n.SentAt == nil && n.Attempts < maxAttempts && len(out) < limit {
			c := *n
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeStore) FindProductOrderByID(ctx context.Context, id string) (*vippsmgmt.ProductOrder, error) {
	if o, ok := f.orders[id]; ok {
		return o, nil
	}
	return nil, vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "Product order %s was not found.", id)
}

func (f *fakeStore) MarkNotification(ctx context.Context, id int64, sentAt *time.Time, errText string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.notes {
		if n.ID == id {
			n.Attempts++
			n.SentAt, n.LastError = sentAt, errText
			return nil
		}
	}
	return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "no notification %d", id)
}

func (f *fakeStore) note(id int64) vippsmgmt.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.notes {
		if n.ID == id {
			return *n
		}
	}
	return vippsmgmt.Notification{}
}

func newFakeStore() *fakeStore {
	partner := "acme"
	created := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	body := "The product order o-1 has been approved.\n\nMerchant name: Kiosk & Café Ålesund\nMSN: 100001\n"
	return &fakeStore{
		orders: map[string]*vippsmgmt.ProductOrder{
			"o-1": {ID: "o-1", PartnerID: &partner, BusinessIdentifier: vippsmgmt.BusinessIdentifier{Scheme: "business:NO:ORG", ID: "987654317"}},
		},
		notes: []*vippsmgmt.Notification{
			{ID: 1, OrderID: "o-1", Recipient: "partner", RecipientName: "Acme Partner AS", Subject: "Product order approved: Kiosk & Café, MSN 100001", Body: body, CreatedAt: created},
			{ID: 2, OrderID: "o-1", Recipient: "merchant", RecipientName: "Kiosk & Café", Subject: "Product order approved: Kiosk & Café, MSN 100001", Body: body, CreatedAt: created},
		},
	}
}

func TestRunSendsOutbox(t *testing.T) {
	srv := newSMTPServer(t)
	st := newFakeStore()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, st, srv.url(), "Vippsmgmt <noreply@mail.example>", slog.New(slog.NewTextHandler(io.Discard, nil)), 10*time.Millisecond)
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
	wantTo := []string{"partner-acme@mail.example", "merchant-987654317@mail.example"}
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
		subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subj != "Product order approved: Kiosk & Café, MSN 100001" {
			t.Errorf("subject %q (%v)", subj, err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil || !strings.Contains(string(body), "Kiosk & Café Ålesund") || !strings.Contains(string(body), "MSN: 100001") {
			t.Errorf("body %q (%v)", body, err)
		}
	}
	for _, id := range []int64{1, 2} {
		if n := st.note(id); n.SentAt == nil || n.Attempts != 1 || n.LastError != "" {
			t.Errorf("notification %d: sent %v attempts %d error %q", id, n.SentAt, n.Attempts, n.LastError)
		}
	}
}

func TestSendPendingRecordsFailures(t *testing.T) {
	srv := newSMTPServer(t)
	srv.rejectTo = "merchant-987654317@mail.example"
	st := newFakeStore()
	c, err := ParseConfig(srv.url(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.SendPending(context.Background(), st)
	if err != nil || n != 1 {
		t.Fatalf("SendPending: %d, %v; want 1 sent", n, err)
	}
	if got := st.note(2); got.SentAt != nil || got.Attempts != 1 || !strings.Contains(got.LastError, "550") {
		t.Errorf("refused notification: %+v", got)
	}
	if got := st.note(1); got.SentAt == nil {
		t.Errorf("partner notification not sent")
	}

	// After MaxAttempts a notification is no longer tried.
	st.mu.Lock()
	st.notes[1].Attempts = MaxAttempts
	st.mu.Unlock()
	if n, err := c.SendPending(context.Background(), st); err != nil || n != 0 {
		t.Errorf("SendPending after max attempts: %d, %v", n, err)
	}
	if got := st.note(2).Attempts; got != MaxAttempts {
		t.Errorf("attempts %d, want %d", got, MaxAttempts)
	}
	if len(srv.received()) != 1 {
		t.Errorf("received %d messages, want 1", len(srv.received()))
	}

	// An unreachable server is recorded as an error too.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := ParseConfig("smtp://"+addr, "noreply@mail.example")
	st2 := newFakeStore()
	if n, err := c2.SendPending(context.Background(), st2); err != nil || n != 0 {
		t.Errorf("unreachable: %d, %v", n, err)
	}
	if got := st2.note(1); got.LastError == "" || got.SentAt != nil {
		t.Errorf("unreachable server not recorded: %+v", got)
	}
}

// TestSendPendingPastGivenUp: notifications given up on stay unsent at the front of the outbox;
// however many there are, the ones behind them still go out.
func TestSendPendingPastGivenUp(t *testing.T) {
	srv := newSMTPServer(t)
	st := newFakeStore()
	live := st.notes[0]
	st.notes = nil
	for i := range batch + 5 {
		n := *live
		n.ID, n.Attempts = int64(100+i), MaxAttempts
		st.notes = append(st.notes, &n)
	}
	st.notes = append(st.notes, live)
	c, err := ParseConfig(srv.url(), "noreply@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.SendPending(context.Background(), st); err != nil || n != 1 {
		t.Fatalf("SendPending: %d, %v; want 1 sent", n, err)
	}
	if got := st.note(live.ID); got.SentAt == nil {
		t.Errorf("notification behind the given-up ones not sent: %+v", got)
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
