package services

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Reservation is a stay booked under an idempotency key.
type Reservation struct {
	ID         string
	Key        string
	PropertyID string
	Nights     int
	Released   bool
}

// Properties is an in-memory property inventory. Reservations are keyed by
// idempotency key like charges, for the same reason.
type Properties struct {
	faults

	mu           sync.Mutex
	seq          int
	reservations map[string]*Reservation
	pages        map[string]int
	fields       map[string][]string
}

// NewProperties returns an empty inventory.
func NewProperties() *Properties {
	return &Properties{
		faults:       newFaults(OpReserve, OpRelease, OpFetchPage, OpFetchFields),
		reservations: map[string]*Reservation{},
		pages:        map[string]int{},
		fields:       map[string][]string{},
	}
}

// Reserve books the property and returns the reservation id.
func (p *Properties) Reserve(ctx context.Context, key, propertyID string, nights int) (string, error) {
	if err := p.enter(ctx, OpReserve); err != nil {
		return "", err
	}
	id, err := p.reserve(key, propertyID, nights)
	if err != nil {
		return "", err
	}
	return id, p.after(OpReserve)
}

func (p *Properties) reserve(key, propertyID string, nights int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.reservations[key]; ok {
		return r.ID, nil
	}
	if propertyID == UnavailableProperty {
		return "", ErrUnavailable
	}
	p.seq++
	r := &Reservation{ID: fmt.Sprintf("rs_%06d", p.seq), Key: key, PropertyID: propertyID, Nights: nights}
	p.reservations[key] = r
	return r.ID, nil
}

// Release cancels the reservation made under key and returns its id, or ""
// when nothing was reserved under key; like Payments.Refund, both are
// success.
func (p *Properties) Release(ctx context.Context, key string) (string, error) {
	if err := p.enter(ctx, OpRelease); err != nil {
		return "", err
	}
	p.mu.Lock()
	var id string
	if r, ok := p.reservations[key]; ok {
		r.Released = true
		id = r.ID
	}
	p.mu.Unlock()
	return id, p.after(OpRelease)
}

// FetchPage downloads one page of a property's data. Fetching a page
// again is harmless; the count lets tests see that a resumed sync does not.
func (p *Properties) FetchPage(ctx context.Context, propertyID string, page int) error {
	if err := p.enter(ctx, OpFetchPage); err != nil {
		return err
	}
	p.mu.Lock()
	p.pages[propertyID]++
	p.mu.Unlock()
	return p.after(OpFetchPage)
}

// FetchFields downloads the named fields of a property again; like a page,
// harmlessly repeatable.
func (p *Properties) FetchFields(ctx context.Context, propertyID string, fields []string) error {
	if err := p.enter(ctx, OpFetchFields); err != nil {
		return err
	}
	p.mu.Lock()
	p.fields[propertyID] = append(p.fields[propertyID], fields...)
	p.mu.Unlock()
	return p.after(OpFetchFields)
}

// FieldsFetched lists the fields fetched for propertyID, in order, repeats
// included.
func (p *Properties) FieldsFetched(propertyID string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.fields[propertyID])
}

// PagesFetched counts the pages fetched for propertyID.
func (p *Properties) PagesFetched(propertyID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages[propertyID]
}

// Lookup returns a copy of the reservation made under key.
func (p *Properties) Lookup(key string) (Reservation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reservations[key]
	if !ok {
		return Reservation{}, false
	}
	return *r, true
}

// Notifier sends guests their confirmations, once per idempotency key.
type Notifier struct {
	faults

	mu   sync.Mutex
	sent map[string]string
}

// NewNotifier returns a notifier that has sent nothing.
func NewNotifier() *Notifier {
	return &Notifier{faults: newFaults(OpSend), sent: map[string]string{}}
}

// Send delivers message unless a message was already sent under key.
func (n *Notifier) Send(ctx context.Context, key, message string) error {
	if err := n.enter(ctx, OpSend); err != nil {
		return err
	}
	n.mu.Lock()
	if _, ok := n.sent[key]; !ok {
		n.sent[key] = message
	}
	n.mu.Unlock()
	return n.after(OpSend)
}

// Sent returns the message sent under key.
func (n *Notifier) Sent(key string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m, ok := n.sent[key]
	return m, ok
}
