package devstack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	replicationpb "go.temporal.io/api/replication/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ReplicaBin finds the replicated dev server: $REGIONGATE_REPLICA_BIN, else
// bin/temporal-replica at the repository root (built by `make tools` from
// tools/replication).
func ReplicaBin() (string, error) { return findBin("REGIONGATE_REPLICA_BIN", "temporal-replica") }

// StartCluster starts a dev server that can take part in replication:
// cluster name, failover version (1 to 9, distinct per cluster) and global
// namespaces enabled, on free ports with its own state file in dir. Like
// StartTemporal it can be killed and restarted on the same port and state;
// its global namespaces come from RegisterGlobal once clusters are
// connected.
func StartCluster(ctx context.Context, dir, cluster string, failoverVersion int) (*Temporal, error) {
	bin, err := ReplicaBin()
	if err != nil {
		return nil, err
	}
	return startOnFreePorts(ctx, func() (*Temporal, error) {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		httpPort, err := FreePort()
		if err != nil {
			return nil, err
		}
		t := &Temporal{
			Addr: "127.0.0.1:" + strconv.Itoa(port), Cluster: cluster, bin: bin, port: port,
			httpPort: httpPort, failoverVersion: failoverVersion,
			dbFile: filepath.Join(dir, fmt.Sprintf("cluster-%s-%d.db", cluster, port)),
		}
		t.proc = process{name: "cluster " + cluster + " on " + t.Addr, logFile: filepath.Join(dir, fmt.Sprintf("cluster-%s-%d.log", cluster, port))}
		return t, nil
	})
}

// replicaArgs are temporal-replica's arguments. The HTTP port is fixed
// too: the cluster's peers keep its address in their cluster metadata.
func (t *Temporal) replicaArgs() []string {
	return []string{"--ip", "127.0.0.1", "--port", strconv.Itoa(t.port), "--http-port", strconv.Itoa(t.httpPort),
		"--cluster", t.Cluster, "--failover-version", strconv.Itoa(t.failoverVersion),
		"--db-filename", t.dbFile, "--log-level", "error"}
}

// operator is a short-lived client of the cluster's operator and workflow
// services, for setting replication up.
func (t *Temporal) operator(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{HostPort: t.Addr, Namespace: "default", Logger: log.NewStructuredLogger(nopLogger())})
}

// Connect makes each cluster a remote cluster of the other, with
// replication connections enabled (`temporal operator cluster upsert
// --enable-connection`, both ways). The clusters' services learn of it when
// they re-read the cluster metadata (every second with temporal-replica's
// defaults); RegisterGlobal waits for that.
func Connect(ctx context.Context, a, b *Temporal) error {
	for _, p := range [][2]*Temporal{{a, b}, {b, a}} {
		c, err := p[0].operator(ctx)
		if err != nil {
			return err
		}
		_, err = c.OperatorService().AddOrUpdateRemoteCluster(ctx, &operatorservice.AddOrUpdateRemoteClusterRequest{
			FrontendAddress: p[1].Addr, EnableRemoteClusterConnection: true,
		})
		c.Close()
		if err != nil {
			return fmt.Errorf("connecting cluster %s to %s: %w", p[0].Cluster, p[1].Cluster, err)
		}
	}
	return nil
}

// RegisterGlobal registers namespaces as global namespaces of both
// clusters, active in active, and waits until other has them too. Until
// both clusters' services know each other (Connect) the registration is
// refused as naming an unknown cluster; it is retried until ctx ends.
// Registering a namespace that exists already is not an error.
func RegisterGlobal(ctx context.Context, active, other *Temporal, namespaces ...string) error {
	c, err := active.operator(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, ns := range namespaces {
		req := &workflowservice.RegisterNamespaceRequest{
			Namespace: ns, IsGlobalNamespace: true, ActiveClusterName: active.Cluster,
			Clusters:                         []*replicationpb.ClusterReplicationConfig{{ClusterName: active.Cluster}, {ClusterName: other.Cluster}},
			WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour),
		}
		err := retry(ctx, func() error {
			_, err := c.WorkflowService().RegisterNamespace(ctx, req)
			var exists *serviceerror.NamespaceAlreadyExists
			if errors.As(err, &exists) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("registering global namespace %s in %s: %w", ns, active.Cluster, err)
		}
	}
	o, err := other.operator(ctx)
	if err != nil {
		return err
	}
	defer o.Close()
	for _, ns := range namespaces {
		err := retry(ctx, func() error {
			_, err := o.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
			return err
		})
		if err != nil {
			return fmt.Errorf("namespace %s never reached %s: %w", ns, other.Cluster, err)
		}
	}
	active.Namespaces = append(active.Namespaces, namespaces...)
	other.Namespaces = append(other.Namespaces, namespaces...)
	return nil
}

// Failover makes namespace active in cluster to, asking the cluster at
// via (the active one for a planned failover, the surviving one when the
// active is gone).
func Failover(ctx context.Context, via *Temporal, namespace, to string) error {
	c, err := via.operator(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace, ReplicationConfig: &replicationpb.NamespaceReplicationConfig{ActiveClusterName: to},
	})
	return err
}

// ActiveCluster is the cluster namespace is active in, as at says.
func ActiveCluster(ctx context.Context, at *Temporal, namespace string) (string, error) {
	c, err := at.operator(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return "", err
	}
	return resp.GetReplicationConfig().GetActiveClusterName(), nil
}

// retry calls f every 100ms until it succeeds or ctx ends.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
}
