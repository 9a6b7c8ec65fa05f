package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// HealTimeout bounds the heal after the load: every process back, every
// toxic gone, every region active and healthy on both replicas.
const HealTimeout = 5 * time.Minute

// heal undoes whatever the run left broken, then waits until both replicas
// are ready and see every region active, healthy and not behind an open
// breaker: the auditor's retries must find the stack whole.
func heal(ctx context.Context, st *stack, px *proxies, a *admin) error {
	ctx, cancel := context.WithTimeout(ctx, HealTimeout)
	defer cancel()
	px.healAll()
	for _, n := range st.names() { // regions before workers, Consul before the replicas
		if !st.alive(n) {
			fmt.Fprintf(a.progress, "%s  heal: restarting %s\n", clock(), n)
			if err := st.restart(ctx, n); err != nil && !st.alive(n) {
				return err
			}
		}
	}
	for _, r := range Regions {
		a.try(ctx, "restore", r, http.MethodPost, "/admin/v1/regions/"+r+"/restore", operatorToken, nil, nil)
	}
	var last string
	for {
		if last = whole(ctx, a); last == "" {
			return nil
		}
		if bench.Sleep(ctx, time.Second) != nil {
			return fmt.Errorf("the stack was not whole within %s: %s", HealTimeout, last)
		}
	}
}

// whole says what is still not whole on either replica, or "".
func whole(ctx context.Context, a *admin) string {
	for _, gw := range a.gws {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw.ClientURL+"/readyz", nil)
		resp, err := a.http.Do(req)
		if err != nil {
			return gw.Name + " not answering: " + shortError(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("%s not ready (%d)", gw.Name, resp.StatusCode)
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, gw.AdminURL+"/admin/v1/regions", nil)
		req.Header.Set("Authorization", "Bearer "+viewerToken)
		resp, err = a.http.Do(req)
		if err != nil {
			return gw.Name + " admin not answering: " + shortError(err)
		}
		var v struct {
			Regions []struct {
				Name, State, Breaker string
				Healthy              bool
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || len(v.Regions) != len(Regions) {
			return fmt.Sprintf("%s: region list unreadable (%v)", gw.Name, err)
		}
		var sick []string
		for _, r := range v.Regions {
			if r.State != "active" || !r.Healthy || r.Breaker == "open" {
				sick = append(sick, fmt.Sprintf("%s %s healthy=%t breaker=%s", r.Name, r.State, r.Healthy, r.Breaker))
			}
		}
		if len(sick) > 0 {
			return gw.Name + " sees " + strings.Join(sick, ", ")
		}
	}
	return ""
}
