package services

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrInjected is the transient failure a Fault produces. Activities treat
// it like any other outage: they retry.
var ErrInjected = errors.New("injected failure")

// Op names one operation of a service, for injecting faults and counting
// calls.
type Op string

// The operations of the services in this package.
const (
	OpCharge       Op = "charge"
	OpRefund       Op = "refund"
	OpAssess       Op = "assess-risk"
	OpReserve      Op = "reserve"
	OpRelease      Op = "release"
	OpFetchPage    Op = "fetch-page"
	OpFetchFields  Op = "fetch-fields"
	OpSend         Op = "send"
	OpFetchRecords Op = "fetch-records"
	OpWriteRecords Op = "write-records"
)

// Fault makes the next calls of one operation fail with ErrInjected.
type Fault struct {
	Op Op
	// Times is how many calls fail; 0 means 1.
	Times int
	// AfterEffect makes each failing call take effect before it fails, as
	// when the response is lost on its way back. This is the failure an
	// idempotency key exists for: the retry must find the first result.
	AfterEffect bool
}

// faults is the failure injection and call counting every service embeds.
type faults struct {
	ops []Op // the operations this service has

	mu      sync.Mutex
	pending map[Op]Fault
	calls   map[Op]int
}

func newFaults(ops ...Op) faults {
	return faults{ops: ops, pending: map[Op]Fault{}, calls: map[Op]int{}}
}

// Inject arms f, replacing any fault still pending for the same operation.
// It panics if the service has no such operation: that is a broken test.
func (f *faults) Inject(fault Fault) {
	if !slices.Contains(f.ops, fault.Op) {
		panic(fmt.Sprintf("services: no operation %q here (have %v)", fault.Op, f.ops))
	}
	fault.Times = max(fault.Times, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[fault.Op] = fault
}

// Calls reports how many times op was called, failed calls included.
func (f *faults) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// before counts a call and fails it if a fault that strikes before the
// effect is pending.
func (f *faults) before(op Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.take(op, false)
}

// after fails a call that has taken effect, if such a fault is pending.
func (f *faults) after(op Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.take(op, true)
}

func (f *faults) take(op Op, afterEffect bool) error {
	fault, ok := f.pending[op]
	if !ok || fault.AfterEffect != afterEffect {
		return nil
	}
	fault.Times--
	if fault.Times == 0 {
		delete(f.pending, op)
	} else {
		f.pending[op] = fault
	}
	if afterEffect {
		return fmt.Errorf("%s: response lost: %w", op, ErrInjected)
	}
	return fmt.Errorf("%s: %w", op, ErrInjected)
}
