package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows/codec"
)

// The binary's gateway, as make dev runs it: serve on free ports with its
// state in a directory; a start through the client API lands in its region
// encrypted, its routing record is on disk, and cancelling (what SIGTERM
// does) stops it and lets go of the records file.
func TestServeStartsWorkflowsAndStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("real-server test: needs a Temporal dev server (skipped under -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	temporal, cfgPath := oneServer(ctx, t, dir)
	secret := make([]byte, codec.KeySize)
	secret[0] = 9
	t.Setenv(codec.EnvName("eu-west"), "k1:"+base64.StdEncoding.EncodeToString(secret))
	var addrs [2]string
	for i := range addrs {
		port, err := devstack.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	state := filepath.Join(dir, "state")

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	cmd := serveCmd()
	cmd.SetArgs([]string{"--config", cfgPath, "--state-dir", state, "--client-addr", addrs[0],
		"--admin-addr", addrs[1], "--dev-tokens", "--log-format", "text"})
	cmd.SetOut(io.Discard)
	go func() { done <- cmd.ExecuteContext(serveCtx) }()
	poll.Until(t, 30*time.Second, "the gateway to be ready", func() bool {
		resp, err := http.Get("http://" + addrs[0] + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	body := `{"workflowType":"DataProcessing","workflowId":"serve-e2e-1","userLocation":"DE",` +
		`"dataClassification":"pii","input":{"items":0,"itemDelayMs":0}}`
	resp, err := http.Post("http://"+addrs[0]+"/v1/workflows", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var started struct{ Region, Namespace string }
	err = json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || started.Region != "eu-west" || started.Namespace != "dev-eu-west" {
		t.Fatalf("start: %d %+v %v", resp.StatusCode, started, err)
	}
	plain := dialNS(t, temporal.Addr, "dev-eu-west", nil)
	iter := plain.GetWorkflowHistory(ctx, "serve-e2e-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := iter.Next()
	if err != nil {
		t.Fatal(err)
	}
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(input) != 1 || string(input[0].GetMetadata()["encoding"]) != codec.EncodingEncrypted {
		t.Fatalf("the start's input is not encrypted with eu-west's key: %v", input)
	}

	// The admin listener's codec endpoint decodes it for an operator, for
	// the region's namespace and its isolated tenant's alike (they share
	// the region's keys); another region's namespace has no codec here.
	for ns, wantOK := range map[string]bool{"dev-eu-west": true, "dev-eu-west-northwind": true, "dev-us-east": false} {
		decoded, err := codecAt(addrs[1], ns).Decode(input)
		if ok := err == nil && strings.Contains(string(decoded[0].GetData()), `"items":0`); ok != wantOK {
			t.Errorf("codec endpoint for %s: decoded %v, want %v (%v)", ns, ok, wantOK, err)
		}
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	records, err := regions.OpenBoltRecords(filepath.Join(state, "records.db"))
	if err != nil {
		t.Fatalf("the stopped gateway still holds its records: %v", err)
	}
	defer records.Close()
	keys, err := recordKeys(serveFlags{stateDir: state}, false, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := records.Lookup(ctx, keys.Key("serve-e2e-1")); err != nil || rec.Region != "eu-west" {
		t.Fatalf("routing record after stop: %+v, %v", rec, err)
	}
	if data, err := os.ReadFile(filepath.Join(state, "records.db")); err != nil || bytes.Contains(data, []byte("serve-e2e-1")) {
		t.Fatalf("the records file holds the workflow id (%v)", err)
	}
}

// oneServer starts one Temporal dev server with every namespace of the dev
// config and writes a config in dir that puts every region on it.
func oneServer(ctx context.Context, t *testing.T, dir string) (*devstack.Temporal, string) {
	t.Helper()
	base := configs.Default()
	var namespaces []string
	for _, r := range base.Regions {
		namespaces = append(namespaces, router.Namespaces(base, r)...)
	}
	temporal, err := devstack.StartTemporal(ctx, t.TempDir(), namespaces...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(temporal.Stop)
	text := string(configs.DefaultYAML())
	for _, r := range base.Regions {
		text = strings.Replace(text, "    endpoint: "+r.Endpoint+"\n", "    endpoint: "+temporal.Addr+"\n", 1)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return temporal, cfgPath
}

// codecAt is the Temporal UI's view of the gateway's codec endpoint.
func codecAt(adminAddr, namespace string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: "http://" + adminAddr + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", namespace)
			r.Header.Set("Authorization", "Bearer dev-operator")
			return nil
		},
	})
}
