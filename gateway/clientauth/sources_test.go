package clientauth_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/base/atomicfile"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// reports collects what Watch reports.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }
func (r *reports) count() int    { r.mu.Lock(); defer r.mu.Unlock(); return len(r.errs) }

// works reports whether secret is a key of tenant now.
func works(keys *clientauth.Keys, secret, tenant string) func() bool {
	return func() bool { k, ok := keys.Lookup(secret); return ok && k.Tenant == tenant }
}

// rotate runs what both sources must do: rotation without a restart, and
// a bad text reported while the last good keys stay.
func rotate(t *testing.T, src configs.Source, put func(string), keys *clientauth.Keys, rep *reports) {
	t.Helper()
	put("acme-2 acme " + hashHex("acme-two") + "\n")
	poll.Until(t, 10*time.Second, "the rotated key", works(keys, "acme-two", "acme"))
	if works(keys, "acme-one", "acme")() {
		t.Fatal("the rotated-out key still works")
	}
	put("acme-3 Acme " + hashHex("acme-three") + "\n")
	poll.Until(t, 10*time.Second, "the bad keys to be reported", func() bool { return rep.count() > 0 })
	if !works(keys, "acme-two", "acme")() || works(keys, "acme-three", "acme")() {
		t.Fatal("a bad key text changed the keys in force")
	}
	put("acme-3 acme " + hashHex("acme-three") + "\n")
	poll.Until(t, 10*time.Second, "the fixed keys", works(keys, "acme-three", "acme"))
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client-keys")
	put := func(text string) {
		if err := atomicfile.Write(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := &configs.FileSource{Path: path, Poll: 50 * time.Millisecond}
	keys := clientauth.NewKeys(clientauth.DevKeys()...)
	if err := clientauth.Load(context.Background(), src, keys); !errors.Is(err, configs.ErrNotFound) {
		t.Fatalf("a missing file: %v", err)
	}
	put("acme-1 acme " + hashHex("acme-one") + "\n")
	if err := clientauth.Load(context.Background(), src, keys); err != nil {
		t.Fatal(err)
	}
	if !works(keys, "acme-one", "acme")() || !works(keys, "dev-client-globex", "globex")() {
		t.Fatal("the file's keys or the dev keys are missing")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rep := &reports{}
	go clientauth.Watch(ctx, src, keys, rep.add)
	rotate(t, src, put, keys, rep)
	if !works(keys, "dev-client-globex", "globex")() {
		t.Fatal("rotating the file dropped the dev keys")
	}
}

func TestKeyConsul(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Consul agent (skipped under -short)")
	}
	agent, err := devstack.StartConsul(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	client, err := agent.Client()
	if err != nil {
		t.Fatal(err)
	}
	const key = "regiongate/client-keys"
	put := func(text string) {
		if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(text)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	src := configs.NewConsulSource(client, key)
	src.MaxBackoff, src.WaitTime = 200*time.Millisecond, 5*time.Second
	keys := clientauth.NewKeys()
	put("acme-1 acme " + hashHex("acme-one") + "\n")
	if err := clientauth.Load(context.Background(), src, keys); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rep := &reports{}
	go clientauth.Watch(ctx, src, keys, rep.add)
	rotate(t, src, put, keys, rep)

	t.Run("Consul restarted", func(t *testing.T) {
		agent.Stop()
		if !works(keys, "acme-three", "acme")() {
			t.Fatal("Consul down lost the last good keys")
		}
		if err := agent.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A dev agent comes back empty, its indexes starting afresh.
		put("globex-1 globex " + hashHex("globex-one") + "\n")
		poll.Until(t, 20*time.Second, "the keys written after the restart", works(keys, "globex-one", "globex"))
	})
}
