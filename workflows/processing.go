package workflows

import (
	"fmt"
	"time"

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

// DataProcessingInput is the input of the DataProcessing workflow.
type DataProcessingInput struct {
	Items       int `json:"items"`
	ItemDelayMs int `json:"itemDelayMs"`
}

// DataProcessingResult is the result of the DataProcessing workflow.
type DataProcessingResult struct {
	Processed int `json:"processed"`
}

func (in DataProcessingInput) validate() error {
	if in.Items < 0 || in.Items > maxProcessingItems {
		return validationError("items must be between 0 and %d, got %d", maxProcessingItems, in.Items)
	}
	if in.ItemDelayMs < 0 || in.ItemDelayMs > maxItemDelayMs {
		return validationError("itemDelayMs must be between 0 and %d, got %d", maxItemDelayMs, in.ItemDelayMs)
	}
	return nil
}

// DataProcessing simulates processing items, each taking about itemDelayMs.
// The delay is a durable timer, so a run survives worker restarts and a
// cancel interrupts it at once.
func DataProcessing(ctx workflow.Context, in DataProcessingInput) (DataProcessingResult, error) {
	status, progress := processingInitializing, 0
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return status, nil }); err != nil {
		return DataProcessingResult{}, fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (int, error) { return progress, nil }); err != nil {
		return DataProcessingResult{}, fmt.Errorf("register progress query: %w", err)
	}
	if err := in.validate(); err != nil {
		return DataProcessingResult{}, err
	}

	status = processingActive
	chunk := max(1, (in.Items+maxProcessingTimers-1)/maxProcessingTimers)
	processed := 0
	for processed < in.Items {
		n := min(chunk, in.Items-processed)
		if in.ItemDelayMs > 0 {
			d := time.Duration(n*in.ItemDelayMs) * time.Millisecond
			if err := workflow.Sleep(ctx, d); err != nil {
				status = processingCanceled
				// err is a CanceledError, which ends the execution CANCELED.
				return DataProcessingResult{}, fmt.Errorf("data processing stopped after %d of %d items: %w", processed, in.Items, err)
			}
		}
		processed += n
		progress = processed * 100 / in.Items
	}
	status, progress = processingCompleted, 100
	return DataProcessingResult{Processed: processed}, nil
}
