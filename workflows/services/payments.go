// Package services holds the in-memory services the dev activities call, idempotent and fault-injectable.
package services

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Inputs that make the services refuse a request, so that every failure
// path of the dev workflows can be triggered end to end.
const (
	// DeclinedCard is a card the payment service declines.
	DeclinedCard = "tok_declined"
	// AuthFailedCard makes the payment service report that it does not
	// accept our credentials.
	AuthFailedCard = "tok_auth_failed"
	// FraudCard is a card the risk assessment scores as fraud.
	FraudCard = "tok_fraud"
	// UnavailableProperty is a property that cannot be reserved.
	UnavailableProperty = "p-unavailable"
)

// Refusals. A refused request had no effect, and retrying it cannot help.
var (
	ErrDeclined    = errors.New("card was declined")
	ErrUnavailable = errors.New("property is unavailable")
	// ErrUnauthenticated: the service does not accept our credentials.
	ErrUnauthenticated = errors.New("service rejected our credentials")
	// ErrRejected: the service refused the request itself as invalid.
	ErrRejected = errors.New("service rejected the request as invalid")
)

// FraudScore is the score AssessRisk gives FraudCard; other cards score
// below it.
const FraudScore = 95

// Charge is a payment taken under an idempotency key.
type Charge struct {
	ID          string
	Key         string
	AmountCents int
	Refunded    bool
}

// Payments is an in-memory payment provider. A charge is keyed by its
// idempotency key: charging again under the same key returns the first
// charge instead of taking the money twice.
type Payments struct {
	faults

	mu      sync.Mutex
	seq     int
	charges map[string]*Charge
}

// NewPayments returns an empty payment provider.
func NewPayments() *Payments {
	return &Payments{faults: newFaults(OpCharge, OpRefund, OpAssess), charges: map[string]*Charge{}}
}

// Charge takes amountCents from the card and returns the charge id.
func (p *Payments) Charge(ctx context.Context, key, cardToken string, amountCents int) (string, error) {
	if err := p.enter(ctx, OpCharge); err != nil {
		return "", err
	}
	id, err := p.charge(key, cardToken, amountCents)
	if err != nil {
		return "", err
	}
	return id, p.after(OpCharge)
}

func (p *Payments) charge(key, cardToken string, amountCents int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.charges[key]; ok {
		return c.ID, nil
	}
	switch cardToken {
	case DeclinedCard:
		return "", ErrDeclined
	case AuthFailedCard:
		return "", ErrUnauthenticated
	}
	p.seq++
	c := &Charge{ID: fmt.Sprintf("ch_%06d", p.seq), Key: key, AmountCents: amountCents}
	p.charges[key] = c
	return c.ID, nil
}

// Refund refunds the charge made under key and returns its id, or "" when
// nothing was charged under key. Both are success, so a compensation can run
// when the outcome of the charge is unknown; refunding twice is harmless.
func (p *Payments) Refund(ctx context.Context, key string) (string, error) {
	if err := p.enter(ctx, OpRefund); err != nil {
		return "", err
	}
	p.mu.Lock()
	var id string
	if c, ok := p.charges[key]; ok {
		c.Refunded = true
		id = c.ID
	}
	p.mu.Unlock()
	return id, p.after(OpRefund)
}

// AssessRisk scores a payment from 0 (safe) to 100 (certainly fraud).
func (p *Payments) AssessRisk(ctx context.Context, cardToken string, amountCents int) (int, error) {
	if err := p.enter(ctx, OpAssess); err != nil {
		return 0, err
	}
	score := min(amountCents/100_000, 50) // large amounts are a little riskier
	if cardToken == FraudCard {
		score = FraudScore
	}
	return score, p.after(OpAssess)
}

// Lookup returns a copy of the charge made under key.
func (p *Payments) Lookup(key string) (Charge, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.charges[key]
	if !ok {
		return Charge{}, false
	}
	return *c, true
}

// Charges counts the charges ever taken, refunded ones included.
func (p *Payments) Charges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.charges)
}

// enter is the start of every call: a canceled caller gets nothing done.
func (f *faults) enter(ctx context.Context, op Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.before(op)
}
