package workflows

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"
)

// DataProcessing stages reported by the getStatus query.
const (
	processingInitializing = "initializing"
	processingActive       = "processing"
	processingCompleted    = "completed"
	processingCanceled     = "canceled"
)

// Input limits for DataProcessing.
const (
	maxProcessingItems = 100000
	maxItemDelayMs     = 60000
)

// maxProcessingTimers caps the timers one DataProcessing run starts. Each
// timer costs a handful of history events, and a timer per item at the item
// limit would exceed the server's history size limit; past this many items
// the workflow sleeps once per chunk of items instead.
const maxProcessingTimers = 500

// Bounds on the notes a DataProcessing run keeps. The signals themselves
// stay in the history; these bound the workflow's state and the answer of
// getNotes.
const (
	// maxNotes is how many notes are kept; past it the oldest is dropped.
	maxNotes = 100
	// maxNoteBytes is the longest note kept; a longer text is cut (at a
	// UTF-8 boundary) to this many bytes.
	maxNoteBytes = 1024
)

// DataProcessingInput is the input of the DataProcessing workflow.
type DataProcessingInput struct {
	Items       int `json:"items"`
	ItemDelayMs int `json:"itemDelayMs"`
}

// DataProcessingResult is the result of the DataProcessing workflow.
type DataProcessingResult struct {
	Processed int `json:"processed"`
}

// Note is the input of the note signal.
type Note struct {
	Text string `json:"text"`
}

// ItemDelay is the input of the setItemDelay update.
type ItemDelay struct {
	ItemDelayMs int `json:"itemDelayMs"`
}

func (in DataProcessingInput) validate() error {
	if in.Items < 0 || in.Items > maxProcessingItems {
		return validationError("items must be between 0 and %d, got %d", maxProcessingItems, in.Items)
	}
	return validateItemDelay(in.ItemDelayMs)
}

// validateItemDelay is the rule for itemDelayMs, in the input and in the
// setItemDelay update alike.
func validateItemDelay(ms int) error {
	if ms < 0 || ms > maxItemDelayMs {
		return validationError("itemDelayMs must be between 0 and %d, got %d", maxItemDelayMs, ms)
	}
	return nil
}

// processing is the state of one DataProcessing run that its handlers read
// and change.
type processing struct {
	status   string
	progress int
	delayMs  int
	notes    []string
}

// DataProcessing simulates processing items, each taking about itemDelayMs.
// The delay is a durable timer, so a run survives worker restarts and a
// cancel interrupts it at once. The note signal keeps a text (getNotes lists
// them), and the setItemDelay update changes the delay of the items not yet
// started.
//
// The handlers add no commands of their own: a run that never gets the
// update starts the same timers as before they existed, and the update's
// new durations are not compared on replay (only timer ids are). So no
// GetVersion is needed; the committed DataProcessing-noted history, recorded
// when the note signal was still ignored, proves it.
func DataProcessing(ctx workflow.Context, in DataProcessingInput) (DataProcessingResult, error) {
	p := &processing{status: processingInitializing, delayMs: in.ItemDelayMs, notes: []string{}}
	if err := p.register(ctx); err != nil {
		return DataProcessingResult{}, err
	}
	if err := in.validate(); err != nil {
		return DataProcessingResult{}, err
	}

	p.status = processingActive
	chunk := max(1, (in.Items+maxProcessingTimers-1)/maxProcessingTimers)
	processed := 0
	for processed < in.Items {
		n := min(chunk, in.Items-processed)
		// Read at every chunk, so a setItemDelay applies from the next one.
		if p.delayMs > 0 {
			d := time.Duration(n*p.delayMs) * time.Millisecond
			if err := workflow.Sleep(ctx, d); err != nil {
				p.status = processingCanceled
				// err is a CanceledError, which ends the execution CANCELED.
				return DataProcessingResult{}, fmt.Errorf("data processing stopped after %d of %d items: %w", processed, in.Items, err)
			}
		}
		processed += n
		p.progress = processed * 100 / in.Items
	}
	p.status, p.progress = processingCompleted, 100
	return DataProcessingResult{Processed: processed}, nil
}

// register sets up the queries, the note signal and the setItemDelay update,
// before anything can fail, so that they always answer.
func (p *processing) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return p.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (int, error) { return p.progress, nil }); err != nil {
		return fmt.Errorf("register progress query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryNotes, func() ([]string, error) { return slices.Clone(p.notes), nil }); err != nil {
		return fmt.Errorf("register notes query: %w", err)
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSetItemDelay, p.setItemDelay,
		workflow.UpdateHandlerOptions{Validator: func(in ItemDelay) error { return validateItemDelay(in.ItemDelayMs) }})
	if err != nil {
		return fmt.Errorf("register %s update: %w", UpdateSetItemDelay, err)
	}
	notes := workflow.GetSignalChannel(ctx, SignalNote)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			// A payload that does not decode as a Note is dropped (and
			// logged) by the SDK; Receive then waits for the next one.
			var n Note
			notes.Receive(ctx, &n)
			p.addNote(n.Text)
		}
	})
	return nil
}

// setItemDelay is the update handler: it runs only once the validator has
// accepted the value, and returns the delay it replaces.
func (p *processing) setItemDelay(_ workflow.Context, in ItemDelay) (int, error) {
	prev := p.delayMs
	p.delayMs = in.ItemDelayMs
	return prev, nil
}

// addNote keeps text, cut to maxNoteBytes, dropping the oldest note past
// maxNotes. An empty text is not kept.
func (p *processing) addNote(text string) {
	if text == "" {
		return
	}
	if len(text) > maxNoteBytes {
		cut := maxNoteBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	if len(p.notes) == maxNotes {
		p.notes = slices.Delete(p.notes, 0, 1)
	}
	p.notes = append(p.notes, text)
}
