// Package apiclient calls the gateway's APIs through clients generated from their OpenAPI documents.
package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/regiongate/regiongate/internal/tool/apiclient/admin"
	"github.com/regiongate/regiongate/internal/tool/apiclient/client"
)

// The clients are generated (go generate ./internal/tool/apiclient) from
// gateway/openapi/admin.yaml and client.yaml by a pinned oapi-codegen;
// TestGeneratedClientsAreCurrent fails when they are not what it makes.
//
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config admin/oapi-codegen.yaml ../../../gateway/openapi/admin.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config client/oapi-codegen.yaml ../../../gateway/openapi/client.yaml

// Timeout bounds one call when no HTTP client is given.
const Timeout = 30 * time.Second

// Admin returns a client of the admin API at baseURL (e.g.
// http://127.0.0.1:8081) that sends token as its bearer credential.
// httpClient nil means one with Timeout.
func Admin(baseURL, token string, httpClient *http.Client) (*admin.ClientWithResponses, error) {
	return admin.NewClientWithResponses(strings.TrimSuffix(baseURL, "/"),
		admin.WithHTTPClient(orDefault(httpClient)), admin.WithRequestEditorFn(bearer(token)))
}

// Client returns a client of the client API at baseURL (e.g.
// http://127.0.0.1:8080); credential, when set, is sent as the bearer
// credential (an API key or an access token).
func Client(baseURL, credential string, httpClient *http.Client) (*client.ClientWithResponses, error) {
	return client.NewClientWithResponses(strings.TrimSuffix(baseURL, "/"),
		client.WithHTTPClient(orDefault(httpClient)), client.WithRequestEditorFn(bearer(credential)))
}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Timeout: Timeout}
	}
	return c
}

func bearer(token string) func(context.Context, *http.Request) error {
	return func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}
}

// Error is an answer that was not a success: its status and, when the
// gateway sent one, its problem (RFC 9457).
type Error struct {
	Status int
	Type   string // the problem's type URI, "" without one
	Title  string
	Detail string
	// Problem is the whole problem body, for its extra fields (problems,
	// wouldRefuse, decision).
	Problem map[string]any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Check turns an answer into an error unless its status is 2xx; err (the
// call's own error) is returned as it is.
func Check(resp *http.Response, body []byte, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/problem+json" &&
		json.Unmarshal(body, &e.Problem) == nil {
		e.Type, _ = e.Problem["type"].(string)
		if title, ok := e.Problem["title"].(string); ok {
			e.Title = title
		}
		e.Detail, _ = e.Problem["detail"].(string)
	} else if text := strings.TrimSpace(string(body)); text != "" && len(text) < 500 {
		e.Detail = text
	}
	return e
}
