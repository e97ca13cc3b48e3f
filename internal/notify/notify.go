// Package notify sends the outbox: the notifications the store queues when a product order is
// approved or rejected go out by e-mail over SMTP.
//
// Addresses: vippsmgmt knows no e-mail addresses, so each notification goes to a placeholder
// mailbox under the domain of the sender address (from): partner-<partnerId>@<domain> for the
// partner and merchant-<business id>@<domain> for the merchant, e.g. partner-acme@example.com and
// merchant-987654317@example.com. A catch-all mailbox on a test mail server (MailHog, Mailpit)
// receives them all; the local part tells who they were meant for.
//
// The SMTP URL is smtp://[user:password@]host:port. STARTTLS is used when the server offers it;
// credentials are sent only over TLS or to a loopback server, as net/smtp's PLAIN auth demands.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

// MaxAttempts is how often a notification is tried before it is left for the operator to see in
// the outbox; it keeps a permanently refused message from being retried forever.
const MaxAttempts = 10

// batch is how many notifications one poll sends at most.
const batch = 50

// sendTimeout bounds one SMTP conversation.
const sendTimeout = 30 * time.Second

// Config is a parsed SMTP URL and sender.
type Config struct {
	Addr     string // host:port
	Host     string
	Username string
	Password string
	From     string // bare address
	Domain   string // of the placeholder recipients
}

// ParseConfig checks the SMTP URL and the sender address.
func ParseConfig(smtpURL, from string) (Config, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return Config{}, fmt.Errorf("notify: smtp url: %s", parseProblem(err))
	}
	if u.Scheme != "smtp" || u.Hostname() == "" {
		return Config{}, fmt.Errorf("notify: smtp url must be smtp://[user:pass@]host:port, got scheme %q", u.Scheme)
	}
	c := Config{Host: u.Hostname(), Addr: u.Host}
	if u.Port() == "" {
		c.Addr = net.JoinHostPort(c.Host, "25")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if from == "" {
		from = "vippsmgmt@localhost"
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, fmt.Errorf("notify: from address %q: %w", from, err)
	}
	c.From = a.Address
	c.Domain = c.From[strings.LastIndexByte(c.From, '@')+1:]
	return c, nil
}

// parseProblem says what is wrong with an SMTP URL that does not parse without quoting the URL,
// which url.Parse's error does: it may hold the password, and the error ends up in the log.
func parseProblem(err error) string {
	var ue *url.Error
	var esc url.EscapeError
	switch {
	case errors.As(err, &esc):
		return "it holds an invalid %-escape"
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return "it is not a valid URL"
}

// Recipient returns the placeholder address of a notification's recipient.
func (c Config) Recipient(n *vippsmgmt.Notification, o *vippsmgmt.ProductOrder) string {
	local := "merchant-unknown"
	switch {
	case n.Recipient == "partner" && o != nil && o.PartnerID != nil:
		local = "partner-" + *o.PartnerID
	case n.Recipient == "partner":
		local = "partner-unknown"
	case o != nil:
		local = "merchant-" + o.BusinessIdentifier.ID
	}
	return sanitizeLocal(local) + "@" + c.Domain
}

// sanitizeLocal keeps a local part to characters every mail server accepts unquoted.
func sanitizeLocal(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '+':
			return r
		}
		return '-'
	}, s)
}

// Run sends unsent notifications every `every` until ctx ends. Each send attempt is recorded with
// MarkNotification: sent at the time, or the error.
func Run(ctx context.Context, store vippsmgmt.Store, smtpURL, from string, logger *slog.Logger, every time.Duration) {
	if logger == nil {
		logger = slog.Default()
	}
	c, err := ParseConfig(smtpURL, from)
	if err != nil {
		logger.Error("notifications are not sent", "error", err)
		return
	}
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := c.SendPending(ctx, store); err != nil && ctx.Err() == nil {
			logger.Warn("sending notifications failed", "error", err)
		} else if n > 0 {
			logger.Info("notifications sent", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendPending sends one batch of unsent notifications and returns how many went out. A failed
// send is recorded on its notification and does not stop the others.
func (c Config) SendPending(ctx context.Context, store vippsmgmt.Store) (int, error) {
	// Those given up on stay unsent in the store; reading past them keeps the ones behind moving.
	ns, err := store.FindUnsentNotifications(ctx, MaxAttempts, batch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, n := range ns {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		o, err := store.FindProductOrderByID(ctx, n.OrderID)
		if err != nil && vippsmgmt.ErrorCode(err) != vippsmgmt.ENOTFOUND {
			return sent, err
		}
		to := c.Recipient(n, o)
		if err := c.Send(ctx, to, n); err != nil {
			if merr := store.MarkNotification(ctx, n.ID, nil, err.Error()); merr != nil {
				return sent, merr
			}
			continue
		}
		now := time.Now().UTC()
		if err := store.MarkNotification(ctx, n.ID, &now, ""); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// Send delivers one notification to the address to, giving up when ctx ends or after
// sendTimeout. It succeeds once the server has accepted the message, whatever happens at QUIT.
func (c Config) Send(ctx context.Context, to string, n *vippsmgmt.Notification) (err error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The conversation ends when ctx does, by its deadline or when the server shuts down: a
	// deadline in the past fails the read or write under way.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %v", ctx.Err(), err)
		}
	}()
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(&tls.Config{ServerName: c.Host}); err != nil {
			return err
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return err
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return err
	}
	if err := cl.Rcpt(to); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(c.message(to, n)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has taken the message: a failed QUIT must not count it as unsent, or it would be
	// sent again. The deferred Close ends the connection either way.
	_ = cl.Quit()
	return nil
}

// message is the RFC 5322 text: UTF-8 subject as an encoded word, quoted-printable body, so any
// server accepts it whether or not it speaks 8BITMIME.
func (c Config) message(to string, n *vippsmgmt.Notification) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", (&mail.Address{Name: "vippsmgmt", Address: c.From}).String())
	h("To", (&mail.Address{Name: n.RecipientName, Address: to}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", n.Subject))
	h("Date", n.CreatedAt.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@"+c.Domain+">")
	h("X-Vippsmgmt-Order", n.OrderID)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
