package portaltest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// APIToken gets an access token for a machine client from the development
// provider through the real client-credentials grant.
func APIToken(t testing.TB, baseURL, clientID, secret string, scopes ...string) string {
	t.Helper()
	resp, err := http.Get(baseURL + "/dev-idp/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc.TokenEndpoint == "" {
		t.Fatalf("discovery document: %v", err)
	}
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: doc.TokenEndpoint, Scopes: scopes}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials for %s: %v", clientID, err)
	}
	return tok.AccessToken
}
