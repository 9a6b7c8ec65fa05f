package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Entry kinds in the ledger.
const (
	KindStart      = "start"       // a new start (with a workflowId or an Idempotency-Key)
	KindRepeat     = "repeat"      // the same start again, after it was acknowledged
	KindRetry      = "retry"       // the same start again, after an answer that did not settle it
	KindFinalRetry = "final-retry" // the same start again after the run, by the auditor
	KindSignal     = "signal"
	KindCancel     = "cancel"
	KindDescribe   = "describe"
	KindAdmin      = "admin" // a drain, restore, drill or config edit
	KindFault      = "fault" // a fault's begin or end
)

// Entry is one line of the ledger: a request and its answer, an admin
// action, or a fault's begin or end.
type Entry struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"t"`            // when the request was sent (or the fault began or ended)
	Ms   int64     `json:"ms,omitempty"` // how long its answer took
	Kind string    `json:"kind"`
	// Via is the gateway replica asked (gateway-1, gateway-2).
	Via string `json:"via,omitempty"`

	// What a start asked for; signals, cancels and describes carry the
	// workflow's tenant and id.
	Tenant  string `json:"tenant,omitempty"` // empty: an anonymous caller
	Country string `json:"country,omitempty"`
	Class   string `json:"class,omitempty"`
	Type    string `json:"type,omitempty"`
	// WorkflowID is the caller's id: the body's, or for an
	// Idempotency-Key start the id the gateway derives from the key.
	WorkflowID string          `json:"workflowId,omitempty"`
	IdemKey    string          `json:"idempotencyKey,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`

	// The answer: Status 0 when none came (Err says why).
	Status     int    `json:"status"`
	Problem    string `json:"problem,omitempty"` // the problem type's name (unknown-outcome, ...)
	Region     string `json:"region,omitempty"`
	RunID      string `json:"runId,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"` // seconds
	Err        string `json:"err,omitempty"`
	// Refused: the replica refused the connection, so the request reached
	// nothing, and it was sent to the other replica at once (the next
	// entry), as a client behind a load balancer would see it.
	Refused bool `json:"refused,omitempty"`

	// Faults and admin actions.
	Action string `json:"action,omitempty"` // the fault or admin kind
	Target string `json:"target,omitempty"`
	Phase  string `json:"phase,omitempty"` // begin, end
	Detail string `json:"detail,omitempty"`
}

// Key names the workflow a start entry is about: tenant and caller id.
func (e Entry) Key() string { return e.Tenant + "/" + e.WorkflowID }

// Request is a start entry's request alone, without its answer: the
// start as it is sent again.
func (e Entry) Request() Entry {
	return Entry{Tenant: e.Tenant, Country: e.Country, Class: e.Class, Type: e.Type, WorkflowID: e.WorkflowID, IdemKey: e.IdemKey, Input: e.Input}
}

// Acked reports whether the answer acknowledged a start: 201 or 200 with
// the region that holds it.
func (e Entry) Acked() bool { return (e.Status == 200 || e.Status == 201) && e.Region != "" }

// ServerError reports whether the answer was an error that is not the
// client's: no answer at all, or a 5xx. A refused connection whose request
// went to the other replica at once is not one.
func (e Entry) ServerError() bool { return !e.Refused && (e.Status == 0 || e.Status >= 500) }

// IsRequest reports whether the entry is a client request of the load.
func (e Entry) IsRequest() bool {
	switch e.Kind {
	case KindStart, KindRepeat, KindRetry, KindSignal, KindCancel, KindDescribe:
		return true
	}
	return false
}

// IsStart reports whether the entry is a start (first, repeated or retried).
func (e Entry) IsStart() bool {
	switch e.Kind {
	case KindStart, KindRepeat, KindRetry, KindFinalRetry:
		return true
	}
	return false
}

// Ledger writes entries as JSON lines, in the order they are added; safe
// for concurrent use.
type Ledger struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	seq int64
	err error
	// requests and errors count the client requests added, and those
	// answered with a 5xx or not at all, for progress lines.
	requests, errors int
}

// CreateLedger creates (or truncates) the ledger file at path.
func CreateLedger(path string) (*Ledger, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	return &Ledger{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// OpenLedger opens an existing ledger to add entries (the auditor's final
// retries), numbering them after the ones it holds.
func OpenLedger(path string, last int64) (*Ledger, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	return &Ledger{f: f, w: w, enc: json.NewEncoder(w), seq: last}, nil
}

// Add numbers e and appends it; it returns e as written.
func (l *Ledger) Add(e Entry) Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	if e.IsRequest() {
		l.requests++
		if e.ServerError() {
			l.errors++
		}
	}
	if err := l.enc.Encode(e); err != nil && l.err == nil {
		l.err = err
	}
	return e
}

// Counts are the client requests added so far, and how many of them were
// answered with a 5xx or not at all.
func (l *Ledger) Counts() (requests, errors int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, l.errors
}

// Flush writes what is buffered to the file.
func (l *Ledger) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = err
	}
	return l.err
}

// Close flushes and closes the file; it returns the first write error.
func (l *Ledger) Close() error {
	err := l.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadLedger reads every entry of a ledger file.
func ReadLedger(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeLedger(f)
}

// DecodeLedger reads JSON lines of entries.
func DecodeLedger(r io.Reader) ([]Entry, error) {
	var out []Entry
	dec := json.NewDecoder(r)
	for {
		var e Entry
		err := dec.Decode(&e)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("ledger entry %d: %w", len(out)+1, err)
		}
		out = append(out, e)
	}
}
