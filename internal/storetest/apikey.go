package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vippsmgmt/vippsmgmt"
)

func testAPIKeys(t *testing.T, e *env) {
	e.partner("acme")
	e.partner("beta")
	e.merchant("912345688", vippsmgmt.MerchantActive)
	e.unit("123456", "912345688", nil, vippsmgmt.SalesUnitActive)

	partnerKey := &vippsmgmt.APIKey{ClientID: "client-a", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
		SecretHash: []byte("secret-a"), SubscriptionKeyHash: []byte("sub-a")}
	mgmtKey := &vippsmgmt.APIKey{ClientID: "client-m", Kind: vippsmgmt.KeyManagement, PartnerID: ptr("acme"), SecretHash: []byte("secret-m")}
	merchantKey := &vippsmgmt.APIKey{ClientID: "client-u", Kind: vippsmgmt.KeyMerchant, MSN: ptr("123456"),
		SecretHash: []byte("secret-u"), SubscriptionKeyHash: []byte("sub-u")}
	for _, k := range []*vippsmgmt.APIKey{partnerKey, mgmtKey, merchantKey} {
		must(t, e.s.UpsertAPIKey(e.ctx, k))
	}

	got, err := e.s.FindAPIKeyByClientID(e.ctx, "client-a")
	must(t, err)
	wantSame(t, "FindAPIKeyByClientID", partnerKey, got)
	got, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-u"))
	must(t, err)
	wantSame(t, "FindAPIKeyBySubscriptionKeyHash", merchantKey, got)
	got, err = e.s.FindAPIKeyByClientID(e.ctx, "client-m")
	must(t, err)
	if got.SubscriptionKeyHash != nil {
		t.Errorf("management key has subscription key hash %x, want nil", got.SubscriptionKeyHash)
	}

	t.Run("lookups", func(t *testing.T) {
		_, err := e.s.FindAPIKeyByClientID(e.ctx, "nobody")
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		_, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("nope"))
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		_, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, nil)
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		ids := func(keys []*vippsmgmt.APIKey, err error) []string {
			must(t, err)
			return keysOf(keys, func(k *vippsmgmt.APIKey) string { return k.ClientID })
		}
		for _, c := range []struct {
			partner, msn string
			want         []string
		}{
			{"acme", "", []string{"client-a", "client-m"}},
			{"", "123456", []string{"client-u"}},
			{"beta", "", []string{}},
			{"", "", []string{"client-a", "client-m", "client-u"}},
		} {
			wantSame(t, fmt.Sprintf("FindAPIKeys(%q, %q)", c.partner, c.msn), c.want, ids(e.s.FindAPIKeys(e.ctx, c.partner, c.msn, vippsmgmt.Page{})))
		}
	})

	t.Run("errors", func(t *testing.T) {
		other := *partnerKey
		other.PartnerID = ptr("beta")
		wantCode(t, e.s.UpsertAPIKey(e.ctx, &other), vippsmgmt.ECONFLICT)
		stolen := &vippsmgmt.APIKey{ClientID: "client-b", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("beta"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-a")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, stolen), vippsmgmt.ECONFLICT)
		orphan := &vippsmgmt.APIKey{ClientID: "client-x", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("ghost"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-x")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, orphan), vippsmgmt.ENOTFOUND)
		orphan = &vippsmgmt.APIKey{ClientID: "client-y", Kind: vippsmgmt.KeyMerchant, MSN: ptr("999999"),
			SecretHash: []byte("s"), SubscriptionKeyHash: []byte("sub-y")}
		wantCode(t, e.s.UpsertAPIKey(e.ctx, orphan), vippsmgmt.ENOTFOUND)
		wantCode(t, e.s.UpsertAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: "client-z", Kind: vippsmgmt.KeyPartner}), vippsmgmt.EINVALID)
		wantCode(t, e.s.RevokeAPIKey(e.ctx, "nobody"), vippsmgmt.ENOTFOUND)
	})

	t.Run("rotate and revoke", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		rotated := *partnerKey
		rotated.CreatedAt = time.Time{}
		rotated.SecretHash, rotated.SubscriptionKeyHash = []byte("secret-a2"), []byte("sub-a2")
		must(t, e.s.UpsertAPIKey(e.ctx, &rotated))
		if !rotated.CreatedAt.Equal(Start) {
			t.Errorf("rotation changed CreatedAt to %v", rotated.CreatedAt)
		}
		_, err := e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a"))
		wantCode(t, err, vippsmgmt.ENOTFOUND)
		got, err := e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a2"))
		must(t, err)
		if string(got.SecretHash) != "secret-a2" {
			t.Errorf("secret hash: got %q, want secret-a2", got.SecretHash)
		}
		must(t, e.s.RevokeAPIKey(e.ctx, "client-a"))
		got, err = e.s.FindAPIKeyByClientID(e.ctx, "client-a")
		must(t, err)
		if !got.Revoked {
			t.Error("revoked key: got Revoked false")
		}
		got, err = e.s.FindAPIKeyBySubscriptionKeyHash(e.ctx, []byte("sub-a2"))
		must(t, err)
		if !got.Revoked {
			t.Error("revoked key by subscription key: got Revoked false")
		}
	})
}

// testCreateAPIKeyConcurrent races creates of key sets with one client id and different secrets:
// exactly one is stored, the others are told the id is in use, and the stored secret is the one
// the winner was given, so no caller holds a secret that does not work. A subscription key
// already taken is a conflict too. Several rounds, for a warm pool where transactions overlap.
func testCreateAPIKeyConcurrent(t *testing.T, e *env) {
	e.partner("acme")
	const rounds, n = 4, 8
	var lastWinner *vippsmgmt.APIKey
	for round := range rounds {
		clientID := fmt.Sprintf("client-%d", round)
		keys := make([]*vippsmgmt.APIKey, n)
		errs := make([]error, n)
		race(n, func(i int) {
			keys[i] = &vippsmgmt.APIKey{ClientID: clientID, Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
				SecretHash: fmt.Appendf(nil, "secret-%d-%d", round, i), SubscriptionKeyHash: fmt.Appendf(nil, "sub-%d-%d", round, i)}
			errs[i] = e.s.CreateAPIKey(e.ctx, keys[i])
		})
		var winner *vippsmgmt.APIKey
		for i, err := range errs {
			switch vippsmgmt.ErrorCode(err) {
			case "":
				if winner != nil {
					t.Errorf("round %d: creates %s and %d both succeeded", round, winner.SecretHash, i)
				}
				winner = keys[i]
			case vippsmgmt.ECONFLICT:
				if msg := vippsmgmt.ErrorMessage(err); msg != "Client id "+clientID+" is already in use." {
					t.Errorf("round %d, create %d: %q", round, i, msg)
				}
			default:
				t.Errorf("round %d, create %d: %v", round, i, err)
			}
		}
		if winner == nil {
			t.Fatalf("round %d: no create succeeded", round)
		}
		got, err := e.s.FindAPIKeyByClientID(e.ctx, clientID)
		must(t, err)
		wantSame(t, "stored key set", winner, got)
		lastWinner = winner
	}
	taken := &vippsmgmt.APIKey{ClientID: "client-other", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("acme"),
		SecretHash: []byte("secret"), SubscriptionKeyHash: lastWinner.SubscriptionKeyHash}
	wantCode(t, e.s.CreateAPIKey(e.ctx, taken), vippsmgmt.ECONFLICT)
	wantCode(t, e.s.CreateAPIKey(e.ctx, &vippsmgmt.APIKey{ClientID: "client-x", Kind: vippsmgmt.KeyPartner, PartnerID: ptr("nobody"),
		SecretHash: []byte("s"), SubscriptionKeyHash: []byte("x")}), vippsmgmt.ENOTFOUND)
}
