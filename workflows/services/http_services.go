package services

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// HTTPPayments is a payment provider over HTTP (the API is in
// docs/workflows.md). A charge, a refund and a risk check are one request
// each; 402 on a charge is ErrDeclined.
type HTTPPayments struct{ c *client }

// NewHTTPPayments returns the payment provider at e.
func NewHTTPPayments(e Endpoint) (*HTTPPayments, error) {
	c, err := newClient("payments", e)
	if err != nil {
		return nil, err
	}
	return &HTTPPayments{c: c}, nil
}

// Charge is POST /charges under the key.
func (p *HTTPPayments) Charge(ctx context.Context, key, cardToken string, amountCents int) (string, error) {
	var out struct {
		ChargeID string `json:"chargeId"`
	}
	in := map[string]any{"cardToken": cardToken, "amountCents": amountCents}
	err := p.c.call(ctx, "charge", http.MethodPost, "charges", nil, key, in, &out,
		map[int]error{http.StatusPaymentRequired: ErrDeclined})
	return out.ChargeID, err
}

// Refund is POST /refunds naming the charge's key; the request's own key is
// the charge's with ":refund", so the provider cannot take it for a second
// charge. The answer's chargeId is "" when nothing was charged under key.
func (p *HTTPPayments) Refund(ctx context.Context, key string) (string, error) {
	var out struct {
		ChargeID string `json:"chargeId"`
	}
	err := p.c.call(ctx, "refund", http.MethodPost, "refunds", nil, key+":refund",
		map[string]any{"chargeKey": key}, &out, nil)
	return out.ChargeID, err
}

// AssessRisk is POST /risk-assessments; it has no effect, so no key.
func (p *HTTPPayments) AssessRisk(ctx context.Context, cardToken string, amountCents int) (int, error) {
	var out struct {
		Score int `json:"score"`
	}
	in := map[string]any{"cardToken": cardToken, "amountCents": amountCents}
	err := p.c.call(ctx, "assess risk", http.MethodPost, "risk-assessments", nil, "", in, &out, nil)
	return out.Score, err
}

// HTTPProperties is a property inventory over HTTP. 409 on a reservation
// is ErrUnavailable.
type HTTPProperties struct{ c *client }

// NewHTTPProperties returns the property service at e.
func NewHTTPProperties(e Endpoint) (*HTTPProperties, error) {
	c, err := newClient("properties", e)
	if err != nil {
		return nil, err
	}
	return &HTTPProperties{c: c}, nil
}

// Reserve is POST /reservations under the key.
func (p *HTTPProperties) Reserve(ctx context.Context, key, propertyID string, nights int) (string, error) {
	var out struct {
		ReservationID string `json:"reservationId"`
	}
	in := map[string]any{"propertyId": propertyID, "nights": nights}
	err := p.c.call(ctx, "reserve", http.MethodPost, "reservations", nil, key, in, &out,
		map[int]error{http.StatusConflict: ErrUnavailable})
	return out.ReservationID, err
}

// Release is POST /releases naming the reservation's key, under that key
// with ":release"; reservationId is "" when nothing was reserved.
func (p *HTTPProperties) Release(ctx context.Context, key string) (string, error) {
	var out struct {
		ReservationID string `json:"reservationId"`
	}
	err := p.c.call(ctx, "release", http.MethodPost, "releases", nil, key+":release",
		map[string]any{"reservationKey": key}, &out, nil)
	return out.ReservationID, err
}

// FetchPage is GET /properties/{id}/pages/{page}; the body is not kept.
func (p *HTTPProperties) FetchPage(ctx context.Context, propertyID string, page int) error {
	return p.c.call(ctx, "fetch page", http.MethodGet, "properties/"+segment(propertyID)+"/pages/"+strconv.Itoa(page),
		nil, "", nil, nil, nil)
}

// FetchFields is GET /properties/{id}/fields?name=...&name=...
func (p *HTTPProperties) FetchFields(ctx context.Context, propertyID string, fields []string) error {
	return p.c.call(ctx, "fetch fields", http.MethodGet, "properties/"+segment(propertyID)+"/fields",
		url.Values{"name": fields}, "", nil, nil, nil)
}

// HTTPNotifier sends messages over HTTP, once per key.
type HTTPNotifier struct{ c *client }

// NewHTTPNotifier returns the notification service at e.
func NewHTTPNotifier(e Endpoint) (*HTTPNotifier, error) {
	c, err := newClient("notifications", e)
	if err != nil {
		return nil, err
	}
	return &HTTPNotifier{c: c}, nil
}

// Send is POST /messages under the key.
func (n *HTTPNotifier) Send(ctx context.Context, key, message string) error {
	return n.c.call(ctx, "send", http.MethodPost, "messages", nil, key, map[string]any{"message": message}, nil, nil)
}
