package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func queryNotes(t *testing.T, env *testsuite.TestWorkflowEnvironment) []string {
	t.Helper()
	return queryAs[[]string](t, env, QueryNotes)
}

func TestDataProcessingKeepsNotesInOrder(t *testing.T) {
	env, _ := newEnv(t)
	var before, during []string
	env.RegisterDelayedCallback(func() {
		before = queryNotes(t, env)
		env.SignalWorkflow(SignalNote, Note{Text: "first"})
		env.SignalWorkflow(SignalNote, Note{Text: ""}) // not kept
		env.SignalWorkflow(SignalNote, "not a note")   // dropped: does not decode
		env.SignalWorkflow(SignalNote, Note{Text: "second"})
	}, 1500*time.Millisecond)
	env.RegisterDelayedCallback(func() { during = queryNotes(t, env) }, 2500*time.Millisecond)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalNote, Note{Text: "third"}) }, 3500*time.Millisecond)

	env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 5, ItemDelayMs: 1000})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{}, before, "an empty list, not null")
	require.Equal(t, []string{"first", "second"}, during)
	require.Equal(t, []string{"first", "second", "third"}, queryNotes(t, env))
}

func TestNotesAreBounded(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  func(t *testing.T, notes []string)
	}{
		{
			name:  "the oldest go past the limit",
			texts: numbered(maxNotes + 3),
			want: func(t *testing.T, notes []string) {
				require.Len(t, notes, maxNotes)
				require.Equal(t, "note 3", notes[0])
				require.Equal(t, fmt.Sprintf("note %d", maxNotes+2), notes[maxNotes-1])
			},
		},
		{
			name:  "a long text is cut",
			texts: []string{strings.Repeat("a", maxNoteBytes+10)},
			want: func(t *testing.T, notes []string) {
				require.Equal(t, []string{strings.Repeat("a", maxNoteBytes)}, notes)
			},
		},
		{
			name: "the cut keeps runes whole",
			// "é" is two bytes: the limit falls inside the last one.
			texts: []string{strings.Repeat("a", maxNoteBytes-1) + "é"},
			want: func(t *testing.T, notes []string) {
				require.Equal(t, []string{strings.Repeat("a", maxNoteBytes-1)}, notes)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &processing{notes: []string{}}
			for _, s := range tt.texts {
				p.addNote(s)
			}
			tt.want(t, p.notes)
		})
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("note %d", i)
	}
	return out
}

// updateResult records what an update's callbacks were told.
type updateResult struct {
	accepted bool
	rejected error
	value    any
	err      error
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, id string, in any) *updateResult {
	r := &updateResult{}
	env.UpdateWorkflow(UpdateSetItemDelay, id, &testsuite.TestUpdateCallback{
		OnAccept:   func() { r.accepted = true },
		OnReject:   func(err error) { r.rejected = err },
		OnComplete: func(v any, err error) { r.value, r.err = v, err },
	}, in)
	return r
}

func TestSetItemDelayAppliesToTheRemainingItems(t *testing.T) {
	env, _ := newEnv(t)
	var timers []time.Duration
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { timers = append(timers, d) })
	var res *updateResult
	// Mid-way through the third item: it keeps its delay, the rest change.
	env.RegisterDelayedCallback(func() { res = sendUpdate(env, "slower", ItemDelay{ItemDelayMs: 3000}) }, 2500*time.Millisecond)

	env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 5, ItemDelayMs: 1000})

	require.NoError(t, env.GetWorkflowError())
	require.True(t, res.accepted)
	require.NoError(t, res.err)
	require.Equal(t, 1000, res.value, "the previous delay")
	s := time.Second
	require.Equal(t, []time.Duration{s, s, s, 3 * s, 3 * s}, timers)
}

func TestSetItemDelayToZeroFinishesAtOnce(t *testing.T) {
	env, _ := newEnv(t)
	timers := 0
	env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
	env.RegisterDelayedCallback(func() { sendUpdate(env, "now", ItemDelay{ItemDelayMs: 0}) }, 1500*time.Millisecond)

	env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 100, ItemDelayMs: 1000})

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 2, timers, "the first item and the one in progress")
	var out DataProcessingResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, 100, out.Processed)
}

func TestSetItemDelayValidatorRejects(t *testing.T) {
	tests := []struct {
		name    string
		delayMs int
		wantMsg string
	}{
		{name: "negative", delayMs: -1, wantMsg: "itemDelayMs must be between 0 and 60000, got -1"},
		{name: "over the input limit", delayMs: maxItemDelayMs + 1, wantMsg: "itemDelayMs must be between 0 and 60000, got 60001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			var timers []time.Duration
			env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { timers = append(timers, d) })
			var res *updateResult
			env.RegisterDelayedCallback(func() { res = sendUpdate(env, "bad", ItemDelay{ItemDelayMs: tt.delayMs}) }, 500*time.Millisecond)

			env.ExecuteWorkflow(dataProcessingName, DataProcessingInput{Items: 3, ItemDelayMs: 1000})

			require.NoError(t, env.GetWorkflowError())
			require.False(t, res.accepted)
			appErr := requireAppError(t, res.rejected, ErrTypeValidation)
			require.Equal(t, tt.wantMsg, appErr.Message())
			require.Equal(t, []time.Duration{time.Second, time.Second, time.Second}, timers, "the delay is unchanged")
		})
	}
}
