package services

import (
	"context"
	"errors"
	"testing"
)

func TestChargeIsIdempotentByKey(t *testing.T) {
	ctx := context.Background()
	p := NewPayments()
	first, err := p.Charge(ctx, "k1", "tok_visa", 100)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Charge(ctx, "k1", "tok_visa", 100)
	if err != nil || again != first {
		t.Fatalf("same key: got %q, %v; want %q", again, err, first)
	}
	other, _ := p.Charge(ctx, "k2", "tok_visa", 100)
	if other == first || p.Charges() != 2 {
		t.Fatalf("a new key is a new charge: %q %q, %d charges", first, other, p.Charges())
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*Payments, *Properties) error
		want error
	}{
		{"declined card", func(p *Payments, _ *Properties) error {
			_, err := p.Charge(ctx, "k", DeclinedCard, 1)
			return err
		}, ErrDeclined},
		{"refused credentials", func(p *Payments, _ *Properties) error {
			_, err := p.Charge(ctx, "k", AuthFailedCard, 1)
			return err
		}, ErrUnauthenticated},
		{"unavailable property", func(_ *Payments, pr *Properties) error {
			_, err := pr.Reserve(ctx, "k", UnavailableProperty, 1)
			return err
		}, ErrUnavailable},
		{"canceled caller", func(p *Payments, _ *Properties) error {
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			_, err := p.Charge(canceled, "k", "tok_visa", 1)
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, pr := NewPayments(), NewProperties()
			if err := tt.call(p, pr); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if p.Charges() != 0 {
				t.Fatal("a refused request must have no effect")
			}
			if _, ok := pr.Lookup("k"); ok {
				t.Fatal("a refused request must have no effect")
			}
		})
	}
}

func TestUndoOfNothingSucceeds(t *testing.T) {
	ctx := context.Background()
	if id, err := NewPayments().Refund(ctx, "never"); id != "" || err != nil {
		t.Fatalf("refund of nothing: %q %v", id, err)
	}
	if id, err := NewProperties().Release(ctx, "never"); id != "" || err != nil {
		t.Fatalf("release of nothing: %q %v", id, err)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		fault       Fault
		wantErrs    int  // calls that fail before one succeeds
		wantCharged bool // whether the failed calls took effect
	}{
		{"before the effect", Fault{Op: OpCharge, Times: 2}, 2, false},
		{"after the effect", Fault{Op: OpCharge, Times: 2, AfterEffect: true}, 2, true},
		{"zero times means once", Fault{Op: OpCharge}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPayments()
			p.Inject(tt.fault)
			for i := range tt.wantErrs {
				if _, err := p.Charge(ctx, "k", "tok_visa", 1); !errors.Is(err, ErrInjected) {
					t.Fatalf("call %d: got %v, want an injected failure", i+1, err)
				}
				if _, charged := p.Lookup("k"); charged != tt.wantCharged {
					t.Fatalf("call %d: charged = %v, want %v", i+1, charged, tt.wantCharged)
				}
			}
			id, err := p.Charge(ctx, "k", "tok_visa", 1)
			if err != nil || id != "ch_000001" {
				t.Fatalf("after the faults: %q %v", id, err)
			}
			if p.Calls(OpCharge) != tt.wantErrs+1 || p.Charges() != 1 {
				t.Fatalf("calls %d, charges %d", p.Calls(OpCharge), p.Charges())
			}
		})
	}
}

func TestInjectUnknownOpPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("injecting a reservation fault into payments must panic")
		}
	}()
	NewPayments().Inject(Fault{Op: OpReserve})
}

func TestAssessRisk(t *testing.T) {
	p := NewPayments()
	if s, _ := p.AssessRisk(context.Background(), FraudCard, 100); s != FraudScore {
		t.Fatalf("fraud card scored %d", s)
	}
	if s, _ := p.AssessRisk(context.Background(), "tok_visa", 1_000_000_000); s >= FraudScore {
		t.Fatalf("an honest large payment scored %d", s)
	}
}
