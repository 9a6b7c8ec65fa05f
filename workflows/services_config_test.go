package workflows

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/regiongate/regiongate/workflows/services"
)

// Compile-time proof that the HTTP adapters are services.
var (
	_ PaymentService      = (*services.HTTPPayments)(nil)
	_ PropertyService     = (*services.HTTPProperties)(nil)
	_ NotificationService = (*services.HTTPNotifier)(nil)
)

// scriptedService answers each request to a path with the next status of
// its script (200 with body once the script is used up) and records the
// idempotency keys it got.
type scriptedService struct {
	mu     sync.Mutex
	script map[string][]int
	bodies map[string]string
	keys   map[string][]string
}

func newScripted(t *testing.T, script map[string][]int, bodies map[string]string) (*scriptedService, string) {
	t.Helper()
	s := &scriptedService{script: script, bodies: bodies, keys: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.keys[r.URL.Path] = append(s.keys[r.URL.Path], r.Header.Get(services.IdempotencyKeyHeader))
		status := http.StatusOK
		if q := s.script[r.URL.Path]; len(q) > 0 {
			status, s.script[r.URL.Path] = q[0], q[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, s.bodies[r.URL.Path])
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *scriptedService) keysFor(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[path]
}

// httpServicesFile writes a services file pointing every service of
// region "test" at url.
func httpServicesFile(t *testing.T, url, property string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "services.yaml")
	data := "regions:\n  test:\n    payment: {url: '" + url + "'}\n    notification: {url: '" + url + "'}\n" + property
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

func TestBookingOverHTTPRetriesOutagesWithOneKey(t *testing.T) {
	svc, url := newScripted(t,
		map[string][]int{"/charges": {503, 502}},
		map[string]string{"/charges": `{"chargeId":"ch_http"}`, "/reservations": `{"reservationId":"rs_http"}`,
			"/risk-assessments": `{"score":1}`})
	s, cfg, err := LoadServices(httpServicesFile(t, url, "    property: {url: '"+url+"'}\n"), "test")
	require.NoError(t, err)
	require.Contains(t, cfg.String(), "payment="+url)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	Register(env, NewActivitiesWith(s))

	env.ExecuteWorkflow(propertyBookingName, validBooking())

	require.NoError(t, env.GetWorkflowError())
	var res BookingResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "ch_http", res.ChargeID)
	keys := svc.keysFor("/charges")
	require.Len(t, keys, 3, "two outages, then the charge")
	require.True(t, strings.HasSuffix(keys[0], "/charge"), "key %q", keys[0])
	require.Equal(t, []string{keys[0], keys[0], keys[0]}, keys, "every attempt under one key")
	require.Len(t, svc.keysFor("/messages"), 1)
}

func TestHTTPRefusalsAreNotRetried(t *testing.T) {
	tests := []struct {
		status   int
		wantType string
	}{
		{status: 400, wantType: ErrTypeValidation},
		{status: 401, wantType: ErrTypeAuthentication},
		{status: 402, wantType: ErrTypePaymentDeclined},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			svc, url := newScripted(t, map[string][]int{"/charges": {tt.status}},
				map[string]string{"/risk-assessments": `{"score":1}`})
			s, _, err := LoadServices(httpServicesFile(t, url, ""), "test")
			require.NoError(t, err)
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			Register(env, NewActivitiesWith(s))

			env.ExecuteWorkflow(propertyBookingName, validBooking())

			appErr := requireAppError(t, env.GetWorkflowError(), tt.wantType)
			require.True(t, appErr.NonRetryable())
			require.Len(t, svc.keysFor("/charges"), 1, "one attempt")
			require.Empty(t, svc.keysFor("/refunds"), "a refused charge has nothing to undo")
		})
	}
}

func TestHTTPOutageIsRetryableAtTheActivity(t *testing.T) {
	_, url := newScripted(t, map[string][]int{"/messages": {503}}, nil)
	s, _, err := LoadServices(httpServicesFile(t, url, ""), "test")
	require.NoError(t, err)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := NewActivitiesWith(s)
	env.RegisterActivity(acts)

	_, err = env.ExecuteActivity(acts.SendConfirmation, ConfirmRequest{IdempotencyKey: "k"})

	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.False(t, appErr.NonRetryable(), "a 503 must be retried: %v", err)
	require.Contains(t, err.Error(), "notifications: send: HTTP 503")
}

func TestLoadServicesChecksThePropertyTimeout(t *testing.T) {
	path := httpServicesFile(t, "http://127.0.0.1:1", "    property: {url: 'http://127.0.0.1:1', timeout: 5s}\n")
	_, _, err := LoadServices(path, "test")
	require.ErrorContains(t, err, "property timeout: at most 4s")

	_, _, err = LoadServices(path, "elsewhere")
	require.ErrorIs(t, err, services.ErrNoRegion)
}

func TestNoServicesFileMeansInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services.yaml")
	require.NoError(t, os.WriteFile(path, []byte("regions: {test: {}}"), 0o600))
	s, cfg, err := LoadServices(path, "test")
	require.NoError(t, err)
	require.Equal(t, Services{}, s, "every field nil: NewActivitiesWith fills in the stand-ins")
	require.Equal(t, "payment=in-memory property=in-memory notification=in-memory", cfg.String())
}
