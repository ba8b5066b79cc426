package auth

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// clientAssertion is a short-lived JWT proving the portal holds its registered
// private key (RFC 7523), used where providers forbid shared client secrets.
func (l *Login) clientAssertion(tokenURL string) (string, error) {
	var alg jose.SignatureAlgorithm
	switch k := l.cfg.PrivateKey.(type) {
	case *rsa.PrivateKey:
		alg = jose.RS256
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().BitSize {
		case 256:
			alg = jose.ES256
		case 384:
			alg = jose.ES384
		default:
			alg = jose.ES512
		}
	default:
		return "", fmt.Errorf("client assertion for %s: unsupported key type %T", l.cfg.ID, k)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: l.cfg.PrivateKey, KeyID: l.cfg.PrivateKeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("client assertion signer for %s: %w", l.cfg.ID, err)
	}
	now := time.Now()
	claims := jwt.Claims{
		Issuer:    l.cfg.ClientID,
		Subject:   l.cfg.ClientID,
		Audience:  jwt.Audience{tokenURL},
		ID:        NewToken(),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(2 * time.Minute)),
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign client assertion for %s: %w", l.cfg.ID, err)
	}
	return raw, nil
}
