package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/testkit/apicheck"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// stack is the whole product on free ports, shared by this package's
// end-to-end tests; nil under -short.
var stack *devstack.Stack

// spans records every span the shared stack ends.
var spans = tracetest.NewInMemoryExporter()

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "regiongate-gateway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	// Every span of the shared stack (HTTP, Temporal client, workflow,
	// activity) is kept in memory for the tracing test.
	stack, err = devstack.StartStackWith(ctx, dir, devstack.StackOptions{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the dev stack for tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	stack.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needStack(t *testing.T) {
	t.Helper()
	if stack == nil {
		t.Skip("end-to-end test: needs real Temporal dev servers (skipped under -short)")
	}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
	return m
}

// testClient gives up on a hung gateway long before go test's own timeout.
var testClient = &http.Client{Timeout: time.Minute}

// documents holds every answer do gets to the OpenAPI documents.
var documents = func() *apicheck.Gateway {
	g, err := apicheck.NewGateway(openapi.Client(), openapi.Admin())
	if err != nil {
		panic(err)
	}
	return g
}()

// do sends one request and checks the answer against the listener's
// OpenAPI document (an answer that does not match fails the test, which
// goes on).
func do(t *testing.T, method, url string, body any, header ...string) response {
	t.Helper()
	r, err := send(method, url, body, header...)
	switch {
	case errors.Is(err, errOpenAPI):
		t.Errorf("%s %s: %v", method, url, err) // the answer is there: the test goes on
	case err != nil:
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// errOpenAPI marks an answer that does not match the listener's OpenAPI
// document.
var errOpenAPI = errors.New("the answer does not match the OpenAPI document")

// send is do without the test: it returns what goes wrong, so it may run
// off the test's goroutine.
func send(method, url string, body any, header ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err := documents.Check(req, resp.StatusCode, resp.Header, data); err != nil {
		return r, fmt.Errorf("%w: %w", errOpenAPI, err)
	}
	return r, nil
}

func uniqueID(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
}
