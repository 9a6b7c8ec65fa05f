package regions

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
)

// History is one run's events, oldest first, their payloads decoded.
type History struct {
	RunID  string
	Events []*historypb.HistoryEvent
	// Truncated says the run has more events than were read.
	Truncated bool
}

// historyPage is how many events one call reads.
const historyPage = 1000

// History reads the latest run's events, at most max of them, a page per
// call through the breaker, and decodes every payload with the region's
// data converter (its payload codec): the run's input, results, signals
// and failures as the workflow saw them. A payload the converter cannot
// decode (a key the gateway does not hold) is left as stored.
func (l Location) History(ctx context.Context, max int) (History, error) {
	var h History
	// The run is fixed first, so that every page is of the same run.
	err := l.Region.call(ctx, false, func(ctx context.Context) error {
		resp, err := l.Client.DescribeWorkflow(ctx, l.ID, "")
		if err != nil {
			return err
		}
		h.RunID = resp.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		return nil
	})
	if err != nil {
		return h, mapErr(err, "reading the history of "+l.ID)
	}
	var token []byte
	for len(h.Events) < max {
		var resp *workflowservice.GetWorkflowExecutionHistoryResponse
		err := l.Region.call(ctx, false, func(ctx context.Context) error {
			var err error
			resp, err = l.Client.WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
				Namespace:       l.Namespace,
				Execution:       &commonpb.WorkflowExecution{WorkflowId: l.ID, RunId: h.RunID},
				MaximumPageSize: int32(min(historyPage, max-len(h.Events))),
				NextPageToken:   token,
			})
			return err
		})
		if err != nil {
			return h, mapErr(err, "reading the history of "+l.ID)
		}
		h.Events = append(h.Events, resp.GetHistory().GetEvents()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	h.Truncated = len(token) > 0
	return h, l.decode(ctx, h.Events)
}

// decode replaces every payload of events by what the region's data
// converter makes of it.
func (l Location) decode(ctx context.Context, events []*historypb.HistoryEvent) error {
	dc := l.Region.opts.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	opts := proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			out := make([]*commonpb.Payload, len(ps))
			for i, p := range ps {
				out[i] = p
				// RawValue: the codec's work without the conversion to a
				// Go value.
				var raw converter.RawValue
				if err := dc.FromPayload(p, &raw); err == nil && raw.Payload() != nil {
					out[i] = raw.Payload()
				}
			}
			return out, nil
		},
	}
	for _, e := range events {
		if err := proxy.VisitPayloads(ctx, e, opts); err != nil {
			return err
		}
	}
	return nil
}
