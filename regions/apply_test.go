package regions

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/pki"
)

// editedDev is the dev config with extra settings for eu-west.
func editedDev(t *testing.T, settings string) *configs.Config {
	t.Helper()
	text := strings.Replace(string(configs.DefaultYAML()), "    endpoint: 127.0.0.1:7235\n",
		"    endpoint: 127.0.0.1:7235\n"+settings, 1)
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestApplyEditsARegionInPlace: a config change to a region's timeout or
// failover takes effect on the same region (its client, health and breaker
// state kept); a change to its breaker settings gives it a new breaker.
func TestApplyEditsARegionInPlace(t *testing.T) {
	m, err := NewManager(configs.Default(), Options{}) // lazy clients: nothing is dialled
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before, _ := m.Region("eu-west")
	for range DefaultConsecutiveFailures {
		_, _ = before.settings.Load().breaker.Execute(func() (any, error) { return nil, connRefused })
	}
	if before.Breaker() != "open" {
		t.Fatalf("breaker %s, want open", before.Breaker())
	}

	if err := m.Apply(editedDev(t, "    callTimeout: 1s\n")); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Region("eu-west")
	if after != before || after.client != before.client {
		t.Fatal("a timeout change replaced the region or its client")
	}
	if got := after.settings.Load().timeout; got != time.Second || time.Duration(after.Config().CallTimeout) != time.Second {
		t.Fatalf("call timeout %s after the change, want 1s", got)
	}
	if after.Breaker() != "open" {
		t.Fatalf("breaker %s: an unrelated change reset it", after.Breaker())
	}

	if err := m.Apply(editedDev(t, "    breaker: {consecutiveFailures: 2}\n")); err != nil {
		t.Fatal(err)
	}
	if got := after.Breaker(); got != "closed" || after.Config().Breaker.ConsecutiveFailures != 2 {
		t.Fatalf("breaker %s with %+v after its settings changed, want a new closed one", got, after.Config().Breaker)
	}
	if got := after.settings.Load().timeout; got != DefaultCallTimeout {
		t.Fatalf("call timeout %s once the setting is gone, want the default", got)
	}
}

// TestCheckRefusesWhatApplyWould: a region that would need a new client
// whose options fail (no codec keys, say) is refused before anything is
// stored; regions kept as they are are not asked again.
func TestCheckRefusesWhatApplyWould(t *testing.T) {
	noKeys := errors.New("no codec keys")
	asked := map[string]int{}
	m, err := NewManager(configs.Default(), Options{
		RegionClientOptions: func(rc configs.Region, base client.Options) (client.Options, error) {
			asked[rc.Name]++
			if rc.Name == "eu-north" {
				return base, noKeys
			}
			return base, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Check(editedDev(t, "    callTimeout: 1s\n")); err != nil {
		t.Fatalf("an in-place edit refused: %v", err)
	}
	withNorth, err := configs.Parse([]byte(strings.Replace(string(configs.DefaultYAML()), "regions:\n",
		"regions:\n  - name: eu-north\n    endpoint: 127.0.0.1:7299\n    namespace: dev-eu-north\n    residency: [EU]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(withNorth); !errors.Is(err, noKeys) {
		t.Fatalf("check of a region without keys: %v", err)
	}
	if _, ok := m.Region("eu-north"); ok || asked["eu-west"] != 1 {
		t.Fatalf("check changed the manager or re-asked kept regions: %v", asked)
	}
}

// TestApplyRebuildsTheClientWhenTheConnectionChanges: anything in
// configs.Region.Connection gives the region a new client (and the old one
// is closed); the drain state is kept.
func TestApplyRebuildsTheClientWhenTheConnectionChanges(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pki.WriteFile(t, caFile, pki.NewCA(t, "region CA").PEM)
	t.Setenv("RG_TEST_API_KEY", "k")
	endpoint := "    endpoint: 127.0.0.1:7235\n"
	for _, tt := range []struct{ name, from, to string }{
		{"endpoint", endpoint, "    endpoint: 127.0.0.1:7299\n"},
		{"namespace", "    namespace: dev-eu-west\n", "    namespace: dev-eu-west-2\n"},
		{"TLS turned on", endpoint, endpoint + "    tls: {}\n"},
		{"a CA bundle", endpoint, endpoint + "    tls: {caFile: " + caFile + "}\n"},
		{"an API key", endpoint, endpoint + "    apiKey: {env: RG_TEST_API_KEY}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewManager(configs.Default(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.SetDrained("eu-west", true); err != nil {
				t.Fatal(err)
			}
			before, _ := m.Region("eu-west")
			kept := map[string]*Region{}
			for _, r := range m.All() {
				kept[r.Name()] = r
			}
			text := string(configs.DefaultYAML())
			if !strings.Contains(text, tt.from) {
				t.Fatalf("dev config lacks %q", tt.from)
			}
			cfg, err := configs.Parse([]byte(strings.Replace(text, tt.from, tt.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Apply(cfg); err != nil {
				t.Fatal(err)
			}
			after, _ := m.Region("eu-west")
			if after == before || after.client == before.client {
				t.Fatalf("a %s change kept the old client", tt.name)
			}
			if !after.Drained() {
				t.Fatal("the new region lost its drain")
			}
			for _, other := range m.All() {
				if other.Name() != "eu-west" && other != kept[other.Name()] {
					t.Fatalf("region %s was re-dialled too", other.Name())
				}
			}
		})
	}
}

// TestApplyRefusesAConnectionItCannotRead: a region whose TLS file is
// missing is refused by Check and Apply alike, and the region in force
// keeps its client.
func TestApplyRefusesAConnectionItCannotRead(t *testing.T) {
	m, err := NewManager(configs.Default(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before, _ := m.Region("eu-west")
	bad := editedDev(t, "    tls: {caFile: /nonexistent/ca.pem}\n")
	for name, f := range map[string]func(*configs.Config) error{"Check": m.Check, "Apply": m.Apply} {
		if err := f(bad); err == nil || !strings.Contains(err.Error(), "region eu-west: CA bundle (tls.caFile): open /nonexistent/ca.pem") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if after, _ := m.Region("eu-west"); after != before {
		t.Fatal("a refused config replaced the region")
	}
}
