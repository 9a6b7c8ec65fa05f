package workerd

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// Hosted is another region's namespaces that this worker's cluster holds
// as that region's replica (configs.Region.Replica): the worker polls them
// too, with that region's task queues and payload codec, so that after a
// namespace failover to this cluster their workflows continue here. While
// the namespaces are active in their home cluster these polls only answer
// queries.
type Hosted struct {
	Region                 string
	Namespaces, TaskQueues []string
}

// hostedBy lists the regions whose replica is region.
func hostedBy(cfg *configs.Config, region string) []Hosted {
	var out []Hosted
	for _, rc := range cfg.ReplicatedTo(region) {
		out = append(out, Hosted{Region: rc.Name, Namespaces: router.Namespaces(cfg, rc),
			TaskQueues: router.TaskQueues(rc.Name, workflows.Names)})
	}
	return out
}

// startHosted starts a pool per hosted namespace on the worker's one
// connection, each client with its home region's codec: the workflows
// were written there with that region's keys.
func (w *Worker) startHosted(ctx context.Context, o Options, opts client.Options, acts *workflows.Activities) error {
	for _, h := range w.Plan.Hosted {
		cdc, err := regionCodec(o.CodecKeys, h.Region, w.log.With("hosted", h.Region))
		if err != nil {
			return fmt.Errorf("payload keys of %s, whose namespaces this worker hosts: %w", h.Region, err)
		}
		hopts := opts
		hopts.DataConverter, hopts.FailureConverter = nil, nil
		hopts = codec.ClientOptions(hopts, cdc)
		for _, ns := range h.Namespaces {
			hopts.Namespace = ns
			c, err := client.NewClientFromExistingWithContext(ctx, w.clients[0], hopts)
			if err != nil {
				return fmt.Errorf("client for %s's namespace %s: %w", h.Region, ns, err)
			}
			w.clients = append(w.clients, c)
			pool, err := workflows.StartPool(c, h.TaskQueues, acts, o.Worker)
			if err != nil {
				return fmt.Errorf("%s's namespace %s (replicated here): %w", h.Region, ns, err)
			}
			w.pools = append(w.pools, pool)
		}
		w.log.Info("worker polling a replicated region's namespaces", "hosted", h.Region, "namespaces", h.Namespaces, "task_queues", len(h.TaskQueues))
	}
	return nil
}
