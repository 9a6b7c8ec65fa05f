package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// currentConfig returns the config in force, and puts it back when the
// test ends: the tests after this one see the dev config.
func currentConfig(t *testing.T) string {
	t.Helper()
	needBrowser(t)
	_, data := call(t, "GET", stack.AdminURL+"/admin/v1/config", "dev-compliance", nil)
	orig := string(data)
	t.Cleanup(func() { putConfig(t, orig) })
	return orig
}

func openConfig(t *testing.T, token string) context.Context {
	t.Helper()
	ctx := tab(t, token)
	page(t, ctx, "config")
	until(t, ctx, "the config", `document.querySelector('#config-text').value.includes('regions:') && document.querySelector('#config-version').textContent !== ''`)
	return ctx
}

// The compliance flow of docs/compliance.md in the browser: edit, see
// every problem at its line, see the routing change and who becomes
// refused before saving, save, find the change in the audit log.
func TestComplianceEditsTheConfig(t *testing.T) {
	orig := currentConfig(t)
	ctx := openConfig(t, "dev-compliance")
	before := text(t, ctx, "#config-version")

	typeInto(t, ctx, "#config-text", strings.Replace(orig, "failover: [us-west]", "failover: [nowhere]", 1))
	until(t, ctx, "the problems", `!!document.querySelector('#config-status [data-valid="false"]')`)
	if n := count(t, ctx, ".gutter .bad"); n != 1 {
		t.Errorf("%d lines marked, want 1", n)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#config-problems button[data-line]")))
	sel, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(() => { const a = document.querySelector('#config-text'); return a.value.slice(a.selectionStart, a.selectionEnd); })()`))
	if !strings.Contains(sel, "nowhere") {
		t.Errorf("clicking the problem selects %q, not its line", sel)
	}
	if disabled, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#config-save').disabled`)); !disabled {
		t.Error("an invalid config can be saved")
	}
	shot(t, ctx, "config-problems")

	edited := strings.ReplaceAll(orig, "residency: [EU, GB, CH]", "residency: [EU, GB]")
	typeInto(t, ctx, "#config-text", edited)
	until(t, ctx, "the routing change", `!!document.querySelector('#config-status [data-valid="true"]') && !!document.querySelector('tr[data-change="CH/pii"]')`)
	if got := text(t, ctx, "#newly-refused"); !strings.Contains(got, "CH pii") {
		t.Fatalf("newly refused: %q", got)
	}
	shot(t, ctx, "config-preview")
	do(t, ctx, chromedp.Click(chromedp.CSS("#config-save")), chromedp.WaitVisible(chromedp.CSS("dialog.confirm #newly-refused")),
		chromedp.Click(chromedp.CSS("dialog.confirm [data-confirm]")), chromedp.WaitVisible(chromedp.CSS("#config-saved")))
	if after := text(t, ctx, "#config-version"); after == before || !strings.Contains(text(t, ctx, "#config-saved"), after) {
		t.Fatalf("saved: version %s -> %s, %q", before, after, text(t, ctx, "#config-saved"))
	}
	_, data := call(t, "GET", stack.AdminURL+"/admin/v1/config", "dev-viewer", nil)
	if string(data) != edited {
		t.Fatal("the config in force is not the edit")
	}

	page(t, ctx, "audit")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#audit-form input[name="actor"]`), "dev.compliance"),
		chromedp.SendKeys(chromedp.CSS(`#audit-form input[name="action"]`), "config"),
		chromedp.Click(chromedp.CSS(`#audit-form button`)))
	until(t, ctx, "the edit in the audit log", `document.querySelectorAll('#audit-entries tbody tr').length > 0 &&
		[...document.querySelectorAll('#audit-entries tbody tr')].every((r) => r.dataset.action === 'config.replace')`)
	if got := text(t, ctx, "#audit-entries tbody tr"); !strings.Contains(got, "newly refused") {
		t.Errorf("the newest entry: %q", got)
	}
	shot(t, ctx, "audit")
}

// An edit of a config someone else has replaced meanwhile is refused and
// shown as a conflict; nothing is overwritten.
func TestStaleEditShowsTheConflict(t *testing.T) {
	orig := currentConfig(t)
	ctx := openConfig(t, "dev-compliance")
	theirs := orig + "\n# edited by someone else\n"
	putConfig(t, theirs)
	typeInto(t, ctx, "#config-text", orig+"\n# my edit\n")
	until(t, ctx, "the preview", `!!document.querySelector('#config-status [data-valid="true"]') && !document.querySelector('#config-save').disabled`)
	do(t, ctx, chromedp.Click(chromedp.CSS("#config-save")), chromedp.WaitVisible(chromedp.CSS("dialog.confirm")),
		chromedp.Click(chromedp.CSS("dialog.confirm [data-confirm]")), chromedp.WaitVisible(chromedp.CSS("#config-conflict")))
	if got := text(t, ctx, "#config-conflict h2"); !strings.Contains(got, "Conflict") {
		t.Fatalf("conflict: %q", got)
	}
	shot(t, ctx, "config-conflict")
	_, data := call(t, "GET", stack.AdminURL+"/admin/v1/config", "dev-viewer", nil)
	if string(data) != theirs {
		t.Fatal("the stale edit overwrote the other one")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#config-conflict button")))
	until(t, ctx, "the current config", `document.querySelector('#config-text').value.includes('edited by someone else')`)
}

func TestRouteExplainAndTable(t *testing.T) {
	ctx := tab(t, "dev-viewer")
	page(t, ctx, "routes")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#explain-form button`)))
	until(t, ctx, "the decision", `!!document.querySelector('#explain-result [data-allowed="true"]')`)
	if got := text(t, ctx, "#explain-result .ok"); !strings.Contains(got, "eu-west") {
		t.Errorf("DE pii goes to %q", got)
	}
	do(t, ctx, chromedp.SetValue(chromedp.CSS(`#explain-form input[name="userLocation"]`), "JP"),
		chromedp.Click(chromedp.CSS(`#explain-form button`)))
	until(t, ctx, "the refusal", `!!document.querySelector('#explain-result [data-allowed="false"]')`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS(`#explain-form input[name="userLocation"]`), "CH"),
		chromedp.Click(chromedp.CSS(`#explain-form button`)))
	until(t, ctx, "the decision for CH", `!!document.querySelector('#explain-result [data-allowed="true"]')`)
	until(t, ctx, "the route table", `document.querySelectorAll('#route-table tbody tr').length === 249`)
	typeInto(t, ctx, "#route-filter", "ch")
	until(t, ctx, "the filtered table", `document.querySelectorAll('#route-table tbody tr').length === 1`)
	shot(t, ctx, "routes")
}

// An operator finds where a tenant's workflow lives.
func TestOperatorLooksUpAWorkflow(t *testing.T) {
	needBrowser(t)
	id := "console-" + strings.ReplaceAll(t.Name(), "/", "-")
	body := []byte(`{"workflowType":"DataProcessing","workflowId":"` + id + `","userLocation":"FR","dataClassification":"pii","input":{"items":1,"itemDelayMs":1}}`)
	resp, data := call(t, "POST", stack.ClientURL+"/v1/workflows", "dev-client-acme", body, "Content-Type", "application/json")
	if resp.StatusCode != 201 && resp.StatusCode != 200 {
		t.Fatalf("start: %d %s", resp.StatusCode, data)
	}
	ctx := tab(t, "dev-operator")
	page(t, ctx, "workflows")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#workflow-form input[name="id"]`), id),
		chromedp.SendKeys(chromedp.CSS(`#workflow-form input[name="tenant"]`), "acme"),
		chromedp.Click(chromedp.CSS(`#workflow-form button`)))
	until(t, ctx, "the workflow", `!!document.querySelector('#workflow-result [data-field="region"]')`)
	if got := text(t, ctx, `#workflow-result [data-field="region"]`); got != "eu-west" {
		t.Errorf("region %q", got)
	}
	shot(t, ctx, "workflow")
}
