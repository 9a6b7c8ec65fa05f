package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// page opens one of the console's pages from the navigation.
func page(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#nav a[data-page=%q]`, id))), chromedp.WaitVisible(chromedp.CSS("#page-"+id)))
}

func TestSignInKeepsTheTokenOutOfCookies(t *testing.T) {
	ctx := tab(t, "")
	shot(t, ctx, "signin")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#token"), "not-a-token"), chromedp.Click(chromedp.CSS("#signin button")))
	until(t, ctx, "the refusal", `!document.querySelector('#signin-error').hidden`)
	if got := text(t, ctx, "#signin-error"); !strings.Contains(got, "not valid") {
		t.Fatalf("a bad token: %q", got)
	}
	signIn(t, ctx, "dev-admin")
	if who := text(t, ctx, "#who"); !strings.Contains(who, "dev.admin") || !strings.Contains(who, "operator") {
		t.Fatalf("signed in as %q", who)
	}
	if n := count(t, ctx, "#nav a"); n != 6 {
		t.Fatalf("an admin sees %d pages, want 6", n)
	}
	cookie, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookie != "" {
		t.Fatalf("cookies: %q %v", cookie, err)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	until(t, ctx, "the token to be forgotten", `sessionStorage.length === 0`)
}

// A viewer is shown everything and offered no change: no drain, restore
// or drill, a read-only config, no workflow lookup.
func TestViewerIsOfferedNoChanges(t *testing.T) {
	ctx := tab(t, "dev-viewer")
	until(t, ctx, "the regions", `document.querySelectorAll('table.regions tbody tr').length === 4`)
	if n := count(t, ctx, "button[data-action]"); n != 0 {
		t.Errorf("a viewer is offered %d drain or restore buttons", n)
	}
	shot(t, ctx, "viewer-regions")
	page(t, ctx, "drills")
	if n := count(t, ctx, "#drill-form"); n != 0 {
		t.Error("a viewer is offered a drill")
	}
	page(t, ctx, "config")
	until(t, ctx, "the config", `document.querySelector('#config-text').value.includes('regions:')`)
	if n := count(t, ctx, "#config-save, #config-check"); n != 0 {
		t.Error("a viewer is offered to save the config")
	}
	if ro, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#config-text').readOnly`)); !ro {
		t.Error("a viewer can type into the config")
	}
	if n := count(t, ctx, `#nav a[data-page="workflows"]`); n != 0 {
		t.Error("a viewer is offered the workflow lookup")
	}
}

// An operator drains a region after a confirmation that names who would
// be refused, and restores it.
func TestOperatorDrainsAndRestores(t *testing.T) {
	needBrowser(t)
	t.Cleanup(func() {
		for _, r := range []string{"eu-central", "eu-west"} {
			call(t, "POST", stack.AdminURL+"/admin/v1/regions/"+r+"/restore", "dev-operator", nil)
		}
	})
	ctx := tab(t, "dev-operator")
	drain := func(region string) {
		do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-action="drain"][data-region=%q]`, region))),
			chromedp.WaitVisible(chromedp.CSS("dialog.confirm [data-would-refuse]")))
	}
	state := func(region, want string) {
		until(t, ctx, region+" "+want, fmt.Sprintf(`!!document.querySelector('tr[data-region=%q] td[data-state=%q]')`, region, want))
	}
	state("eu-central", "active")
	shot(t, ctx, "regions")
	drain("eu-central")
	if got := text(t, ctx, "dialog.confirm [data-would-refuse]"); !strings.Contains(got, "Nobody would be refused") {
		t.Fatalf("draining eu-central alone: %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("dialog.confirm [data-confirm]")))
	state("eu-central", "drained")
	drain("eu-west")
	got := text(t, ctx, "dialog.confirm [data-would-refuse]")
	for _, who := range []string{"EU", "GB", "CH"} {
		if !strings.Contains(got, who) {
			t.Errorf("draining eu-west after eu-central does not name %s: %q", who, got)
		}
	}
	shot(t, ctx, "drain-confirm")
	do(t, ctx, chromedp.Click(chromedp.CSS("dialog.confirm button.secondary")))
	state("eu-west", "active")
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-action="restore"][data-region="eu-central"]`)),
		chromedp.WaitVisible(chromedp.CSS("dialog.confirm")), chromedp.Click(chromedp.CSS("dialog.confirm [data-confirm]")))
	state("eu-central", "active")
}

// An operator starts a drill and follows its live report: starts whose
// home is the drilled region are rerouted, and the report counts them.
func TestOperatorRunsADrill(t *testing.T) {
	ctx := tab(t, "dev-operator")
	page(t, ctx, "drills")
	until(t, ctx, "the regions to drill", `document.querySelectorAll('#drill-form option').length === 4`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#drill-form select"), "us-east"),
		chromedp.SetValue(chromedp.CSS(`#drill-form input[name="duration"]`), "8"),
		chromedp.Click(chromedp.CSS(`#drill-form button[type="submit"]`)))
	until(t, ctx, "the running drill's report", `!!document.querySelector('#drill-report [data-status="running"]')`)
	for i := range 3 {
		body, _ := json.Marshal(map[string]any{"workflowType": "PropertyBooking", "workflowId": fmt.Sprintf("%s-%d", t.Name(), i),
			"userLocation": "US", "dataClassification": "pii",
			"input": map[string]any{"propertyId": "p-1", "nights": 1, "amountCents": 100, "cardToken": "tok_visa"}})
		if resp, data := call(t, "POST", stack.ClientURL+"/v1/workflows", "", body, "Content-Type", "application/json"); resp.StatusCode != 201 {
			t.Fatalf("start during the drill: %d %s", resp.StatusCode, data)
		}
	}
	until(t, ctx, "the report to count the reroutes", `Number(document.querySelector('#drill-report [data-count="rerouted"]').textContent) >= 3`)
	shot(t, ctx, "drill-running")
	until(t, ctx, "the drill to complete", `!!document.querySelector('#drill-report [data-status="completed"]')`)
	if n, _ := strconv.Atoi(text(t, ctx, `#drill-report [data-count="rerouted"]`)); n < 3 {
		t.Fatalf("rerouted %d, want at least 3", n)
	}
	shot(t, ctx, "drill-report")
}
