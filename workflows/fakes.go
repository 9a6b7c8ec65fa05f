package workflows

import (
	"errors"
	"fmt"
	"sync"
)

// Magic inputs that make the fakes fail deterministically, so that the
// failure paths of the booking saga can be exercised end to end in dev.
const (
	declinedCardToken     = "tok_declined"
	unavailablePropertyID = "p-unavailable"
)

var (
	errCardDeclined        = errors.New("card was declined")
	errPropertyUnavailable = errors.New("property is unavailable")
)

// fakePayments is an in-memory payment provider. Charges are keyed by an
// idempotency key so that a retried charge returns the original charge
// instead of taking the money twice.
type fakePayments struct {
	mu      sync.Mutex
	seq     int
	charges map[string]*fakeCharge
}

type fakeCharge struct {
	id          string
	amountCents int
	refunded    bool
}

func newFakePayments() *fakePayments {
	return &fakePayments{charges: make(map[string]*fakeCharge)}
}

func (p *fakePayments) charge(key, cardToken string, amountCents int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.charges[key]; ok {
		return c.id, nil
	}
	if cardToken == declinedCardToken {
		return "", errCardDeclined
	}
	p.seq++
	c := &fakeCharge{id: fmt.Sprintf("ch_%06d", p.seq), amountCents: amountCents}
	p.charges[key] = c
	return c.id, nil
}

// refund undoes the charge made under key. It reports the refunded charge id,
// or "" when nothing was ever charged; both outcomes are success so that a
// compensation can run blindly when the charge outcome is unknown.
func (p *fakePayments) refund(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.charges[key]
	if !ok {
		return ""
	}
	c.refunded = true
	return c.id
}

// lookup returns a copy of the charge made under key, for tests.
func (p *fakePayments) lookup(key string) (fakeCharge, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.charges[key]
	if !ok {
		return fakeCharge{}, false
	}
	return *c, true
}

// fakeProperties is an in-memory property inventory. Reservations are keyed
// like charges, for the same reason.
type fakeProperties struct {
	mu           sync.Mutex
	seq          int
	reservations map[string]*fakeReservation
	pageFetches  map[string]int
}

type fakeReservation struct {
	id         string
	propertyID string
	nights     int
	released   bool
}

func newFakeProperties() *fakeProperties {
	return &fakeProperties{
		reservations: make(map[string]*fakeReservation),
		pageFetches:  make(map[string]int),
	}
}

func (p *fakeProperties) reserve(key, propertyID string, nights int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.reservations[key]; ok {
		return r.id, nil
	}
	if propertyID == unavailablePropertyID {
		return "", errPropertyUnavailable
	}
	p.seq++
	r := &fakeReservation{id: fmt.Sprintf("rs_%06d", p.seq), propertyID: propertyID, nights: nights}
	p.reservations[key] = r
	return r.id, nil
}

// release mirrors fakePayments.refund: releasing nothing is not an error.
func (p *fakeProperties) release(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reservations[key]
	if !ok {
		return ""
	}
	r.released = true
	return r.id
}

func (p *fakeProperties) lookup(key string) (fakeReservation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reservations[key]
	if !ok {
		return fakeReservation{}, false
	}
	return *r, true
}

// fetchPage stands in for downloading one page of property data. It counts
// fetches so that a resumed sync can be shown not to refetch pages.
func (p *fakeProperties) fetchPage(propertyID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pageFetches[propertyID]++
}

func (p *fakeProperties) fetches(propertyID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pageFetches[propertyID]
}

// fakeNotifier records confirmations. It is keyed so that a retried send does
// not spam the guest.
type fakeNotifier struct {
	mu   sync.Mutex
	sent map[string]string
}

func newFakeNotifier() *fakeNotifier {
	return &fakeNotifier{sent: make(map[string]string)}
}

func (n *fakeNotifier) send(key, message string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.sent[key]; !ok {
		n.sent[key] = message
	}
}

func (n *fakeNotifier) lookup(key string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m, ok := n.sent[key]
	return m, ok
}
