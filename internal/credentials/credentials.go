// Package credentials issues API key sets: random client id, client secret and subscription key,
// stored only as hashes. The operator API and the console both issue keys through it.
package credentials

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
)

// Issued is a new key set, the only time its secrets are visible.
type Issued struct {
	Kind            string
	ClientID        string
	ClientSecret    string
	SubscriptionKey string // empty for management keys
	PartnerID       string
	MSN             string
}

// Hasher hashes secrets before they are stored.
type Hasher interface {
	Hash(secret string) []byte
}

// Issue creates and stores a key set of kind for a partner (partner, management keys) or a sales
// unit (merchant keys). An empty clientID gets a random GUID, like the real portal's.
func Issue(ctx context.Context, store vippsmgmt.Store, h Hasher, kind, partnerID, msn, clientID string) (*Issued, error) {
	if clientID == "" {
		clientID = uuid.NewString()
	}
	is := &Issued{Kind: kind, ClientID: clientID, ClientSecret: randomSecret(), PartnerID: partnerID, MSN: msn}
	k := &vippsmgmt.APIKey{ClientID: clientID, Kind: kind, SecretHash: h.Hash(is.ClientSecret)}
	if kind != vippsmgmt.KeyManagement {
		is.SubscriptionKey = randomHex(16)
		k.SubscriptionKeyHash = h.Hash(is.SubscriptionKey)
	}
	switch kind {
	case vippsmgmt.KeyPartner, vippsmgmt.KeyManagement:
		if _, err := store.FindPartnerByID(ctx, partnerID); err != nil {
			return nil, err
		}
		k.PartnerID = &partnerID
	case vippsmgmt.KeyMerchant:
		if _, err := store.FindSalesUnitByMSN(ctx, msn); err != nil {
			return nil, err
		}
		k.MSN = &msn
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if err := store.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	return is, nil
}

// randomSecret is 32 random bytes in base64, the shape of the real portal's secrets.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
