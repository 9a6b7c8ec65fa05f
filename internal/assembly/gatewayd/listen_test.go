package gatewayd

import (
	"crypto/tls"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/testkit/pki"
	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// Plain text is for loopback only, unless asked for; the refusal names the
// address and happens before anything is bound.
func TestPlainTextIsRefusedBeyondLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "10.1.2.3:8080", "gateway.internal:8080"} {
		_, err := ListenWith(ListenOptions{ClientAddr: addr, AdminAddr: "127.0.0.1:0"})
		if !errors.Is(err, ErrPlainTextListen) || !strings.Contains(err.Error(), "the client API on "+addr) {
			t.Errorf("client on %s: %v", addr, err)
		}
		_, err = ListenWith(ListenOptions{ClientAddr: "127.0.0.1:0", AdminAddr: addr})
		if !errors.Is(err, ErrPlainTextListen) || !strings.Contains(err.Error(), "the admin API on "+addr) {
			t.Errorf("admin on %s: %v", addr, err)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "127.3.4.5:80": true, "localhost:0": true, "[::1]:0": true,
		"0.0.0.0:0": false, "[::ffff:10.0.0.1]:80": false, "nonsense": false} {
		if loopback(addr) != want {
			t.Errorf("loopback(%s) = %v, want %v", addr, !want, want)
		}
	}
	// Asked for, or with TLS, any address goes; here loopback stands in,
	// since tests bind nothing else.
	ls, err := ListenWith(ListenOptions{ClientAddr: "localhost:0", AdminAddr: "127.0.0.1:0", InsecureListen: true})
	if err != nil {
		t.Fatal(err)
	}
	ls.Close()
}

func TestListenRefusesHalfATLSSetup(t *testing.T) {
	for name, o := range map[string]ListenOptions{
		"certificate without key":         {CertFile: "c.pem"},
		"admin client CAs without TLS":    {AdminClientCAFile: "ca.pem"},
		"missing certificate file":        {CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"},
		"missing admin client CA bundle":  {AdminClientCAFile: "/nonexistent/ca.pem", CertFile: "", KeyFile: ""},
		"certificate and key do not pair": {CertFile: "/dev/null", KeyFile: "/dev/null"},
	} {
		o.ClientAddr, o.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
		if ls, err := ListenWith(o); err == nil {
			ls.Close()
			t.Errorf("%s: listening", name)
		}
	}
}

// tlsClient trusts ca, offers HTTP/2 and, when cert is set, presents it.
func tlsClient(ca *pki.CA, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
}

// Both listeners serve TLS with HTTP/2; a certificate rewritten on disk is
// presented by the next handshake, no restart; the admin listener wants a
// client certificate from its CAs when told to.
func TestTLSListeners(t *testing.T) {
	dir := t.TempDir()
	ca, admins := pki.NewCA(t, "gateway CA"), pki.NewCA(t, "admin CA")
	certFile, keyFile := ca.Issue(t, false, "127.0.0.1").Write(t, dir, "listener")
	adminCAFile := filepath.Join(dir, "admin-ca.pem")
	pki.WriteFile(t, adminCAFile, admins.PEM)
	gw, err := Start(t.Context(), Options{Config: mustParse(t, soloYAML), Tokens: gateway.DevTokens()})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ls, err := ListenWith(ListenOptions{ClientAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		CertFile: certFile, KeyFile: keyFile, AdminClientCAFile: adminCAFile})
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)
	if !strings.HasPrefix(ls.ClientURL(), "https://") || !strings.HasPrefix(ls.AdminURL(), "https://") {
		t.Fatalf("URLs %s %s", ls.ClientURL(), ls.AdminURL())
	}

	resp, err := tlsClient(ca, nil).Get(ls.ClientURL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("client /healthz: %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	first := resp.TLS.PeerCertificates[0].SerialNumber

	rotated := ca.Issue(t, false, "127.0.0.1")
	rotated.Write(t, dir, "listener")
	poll.Until(t, 10*time.Second, "the rotated certificate in a new handshake", func() bool {
		resp, err := tlsClient(ca, nil).Get(ls.ClientURL() + "/healthz") // a new client: a new handshake
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Cmp(first) != 0
	})

	if _, err := tlsClient(ca, nil).Get(ls.AdminURL() + "/healthz"); err == nil {
		t.Fatal("admin accepted a client without a certificate")
	}
	stranger := ca.Issue(t, false, "someone").TLS(t) // right CA for servers, not for admins
	if _, err := tlsClient(ca, &stranger).Get(ls.AdminURL() + "/healthz"); err == nil {
		t.Fatal("admin accepted a client certificate from another CA")
	}
	operator := admins.Issue(t, false, "alice").TLS(t)
	req, _ := http.NewRequest("GET", ls.AdminURL()+"/admin/v1/regions", nil)
	req.Header.Set("Authorization", "Bearer dev-viewer")
	resp, err = tlsClient(ca, &operator).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("admin with a client certificate: %d over %s", resp.StatusCode, resp.Proto)
	}
}
