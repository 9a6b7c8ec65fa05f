package clientauth_test

import (
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/idp"
)

// oidcConfig is the oidc section for the test IdP, audience "regiongate".
func oidcConfig(i *idp.IdP) configs.ClientAuth {
	return configs.ClientAuth{Mode: configs.ClientAuthRequired, OIDC: &configs.OIDC{
		Issuer: i.Issuer, Audiences: []string{"regiongate"}, Algorithms: []string{"RS256", "ES256"},
		TenantClaim: "tenant", RoleClaim: "roles", Leeway: configs.Duration(30 * time.Second)}}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
