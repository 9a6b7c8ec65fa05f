package gatewayd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
)

// ClientKeys says where the client API keys come from (docs/tenancy.md).
// Every source adds to the same set; a file and a Consul key are watched,
// so keys rotate without a restart.
type ClientKeys struct {
	// Dev adds the contract's dev keys (dev-client-acme, -globex,
	// -northwind). Never in production.
	Dev bool
	// Env is a value of REGIONGATE_CLIENT_KEYS: "name tenant sha256hex"
	// entries separated by ';'. Read once.
	Env string
	// File is a keys file, one entry per line, re-read when it changes.
	File string
	// Consul, when set, is a KV key holding a keys text, watched.
	Consul *api.Client
	// ConsulKey is that key's name.
	ConsulKey string
}

// load builds the key set and starts the watches, which end with ctx. A
// source that is there but cannot be read or parsed at start is an error:
// a gateway must not come up with fewer keys than it was given.
func (k ClientKeys) load(ctx context.Context, log *slog.Logger) (*clientauth.Keys, error) {
	keys := clientauth.NewKeys()
	if k.Dev {
		if err := keys.Replace("dev", clientauth.DevKeys()); err != nil {
			return nil, err
		}
	}
	if k.Env != "" {
		ks, err := clientauth.ParseEnvKeys(k.Env)
		if err == nil {
			err = keys.Replace("env", ks)
		}
		if err != nil {
			return nil, fmt.Errorf("REGIONGATE_CLIENT_KEYS: %w", err)
		}
	}
	if k.File != "" {
		if err := watchKeys(ctx, configs.NewFileSource(k.File), keys, true, log); err != nil {
			return nil, err
		}
	}
	if k.Consul != nil {
		// An empty key is fine: keys may come from elsewhere and be put
		// there later.
		if err := watchKeys(ctx, configs.NewConsulSource(k.Consul, k.ConsulKey), keys, false, log); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// watchKeys loads src's keys into keys and follows its changes until ctx
// ends; a change that does not parse is logged and the previous keys stay.
func watchKeys(ctx context.Context, src configs.Source, keys *clientauth.Keys, mustExist bool, log *slog.Logger) error {
	err := clientauth.Load(ctx, src, keys)
	if err != nil && (mustExist || !errors.Is(err, configs.ErrNotFound)) {
		return fmt.Errorf("client keys from %s: %w", src, err)
	}
	go clientauth.Watch(ctx, src, keys, func(err error) {
		log.Error("client keys refused; the previous keys stay", "source", src.String(), "error", err)
	})
	return nil
}
