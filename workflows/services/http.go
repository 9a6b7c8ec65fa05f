package services

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// IdempotencyKeyHeader carries the idempotency key of every request that
// has an effect. A service must answer a repeated key with the first
// answer, without a second effect.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxResponseBytes bounds what is read of an answer.
const maxResponseBytes = 1 << 20

// HTTPError is an answer outside 2xx, or no answer. Err is the refusal it
// stands for (ErrUnauthenticated, ErrRejected, ErrDeclined,
// ErrUnavailable), which errors.Is finds, or nil for a failure worth
// retrying (5xx, 408, 425, 429, a timeout, a broken connection). The
// message names the operation, never the request's values: it ends up in
// the workflow history in plain text.
type HTTPError struct {
	Service, Op string
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	Err    error
	cause  error // the transport's error when there was no answer
}

func (e *HTTPError) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("%s: %s: %v", e.Service, e.Op, e.cause)
	case e.Err != nil:
		return fmt.Sprintf("%s: %s: HTTP %d: %v", e.Service, e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %s: HTTP %d", e.Service, e.Op, e.Status)
}

func (e *HTTPError) Unwrap() error { return e.Err }

// client is one service's HTTP endpoint: its base URL, a timeout per
// request, the bearer token if any. It never retries: each activity attempt
// makes one request, and Temporal's retry policy decides about the next.
type client struct {
	service string
	base    string // without a trailing slash
	timeout time.Duration
	token   *tokenFile // nil: no Authorization header
	http    *http.Client
}

func newClient(service string, e Endpoint) (*client, error) {
	e = e.withDefaults()
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	c := &client{service: service, base: strings.TrimSuffix(e.URL, "/"), timeout: e.Timeout,
		http: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	if e.AuthTokenFile != "" {
		c.token = &tokenFile{path: e.AuthTokenFile}
		if _, err := c.token.get(); err != nil {
			return nil, fmt.Errorf("%s: %w", service, err)
		}
	}
	return c, nil
}

// call sends one request to path (below the base URL, already escaped: see
// segment). body and out are JSON (nil for none); key, when
// set, goes in the Idempotency-Key header; refusals maps statuses with a
// meaning of their own for this call (402 declined, 409 unavailable).
func (c *client) call(ctx context.Context, op, method, path string, query url.Values, key string, body, out any, refusals map[int]error) error {
	req, err := c.request(ctx, method, path, query, key, body)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(rctx))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the activity was canceled or timed out
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", c.timeout)
		}
		return &HTTPError{Service: c.service, Op: op, cause: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPError{Service: c.service, Op: op, Status: resp.StatusCode, Err: refusalOf(resp.StatusCode, refusals)}
	}
	if err == nil && out != nil {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		// The effect may have happened; the retry's idempotency key makes
		// asking again safe.
		return &HTTPError{Service: c.service, Op: op, cause: fmt.Errorf("reading the answer: %w", err)}
	}
	return nil
}

func (c *client) request(ctx context.Context, method, path string, query url.Values, key string, body any) (*http.Request, error) {
	u, err := url.Parse(c.base + "/" + path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.service, err)
	}
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding the request: %w", c.service, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.service, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "regiongate-worker")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, key)
	}
	if c.token != nil {
		token, err := c.token.get()
		if err != nil {
			return nil, &HTTPError{Service: c.service, Op: "authenticating", cause: err}
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// segment escapes one path segment, dots included, so that an id such as
// ".." stays a name and never walks up the path.
func segment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
}

// refusalOf classifies a status outside 2xx: nil means worth retrying.
func refusalOf(status int, special map[int]error) error {
	if err, ok := special[status]; ok {
		return err
	}
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthenticated
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return nil
	case status >= 400 && status <= 499:
		return ErrRejected
	}
	return nil // 5xx, and 1xx/3xx that should never reach here
}

// tokenFile is a bearer token read from a file, and read again when the
// file changes, so that a rotated token is used without a restart.
type tokenFile struct {
	path string

	mu    sync.Mutex
	mod   time.Time
	size  int64
	token string
}

func (t *tokenFile) get() (string, error) {
	fi, err := os.Stat(t.path)
	if err != nil {
		return "", fmt.Errorf("auth token file: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && fi.ModTime().Equal(t.mod) && fi.Size() == t.size {
		return t.token, nil
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return "", fmt.Errorf("auth token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" || strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("auth token file %s must hold one non-empty line", t.path)
	}
	t.token, t.mod, t.size = token, fi.ModTime(), fi.Size()
	return token, nil
}
