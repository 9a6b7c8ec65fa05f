package recordsbench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// postgresChunk is rows per COPY: each is its own transaction, so a fill
// stopped by its timeout keeps what it wrote.
const postgresChunk = 250_000

// postgresTarget is a private PostgreSQL server with fsync on (its
// defaults otherwise: shared_buffers 128 MB), the records table made by
// the store itself (PostgresRecords.Migrate).
type postgresTarget struct {
	server *devstack.Postgres
	store  *regions.PostgresRecords
}

func openPostgres(ctx context.Context) (*postgresTarget, error) {
	server, err := devstack.StartPostgresWith(ctx, devstack.PostgresOptions{Durable: true})
	if err != nil {
		return nil, err
	}
	store, err := regions.OpenPostgresRecords(ctx, server.DSN, regions.PostgresOptions{})
	if err != nil {
		server.Stop()
		return nil, err
	}
	return &postgresTarget{server: server, store: store}, nil
}

func (p *postgresTarget) records() regions.Records { return p.store }
func (p *postgresTarget) serverPid() int           { return 0 } // its memory is bounded by its config

func (p *postgresTarget) close() {
	p.store.Close()
	p.server.Stop()
}

// The columns the fill writes; updated_at takes its default.
var postgresColumns = []string{"key", "region", "namespace", "version", "expires_at"}

// fill copies the records in (COPY, one connection per CPU, in the
// records' own order, so the key index grows as claims would grow it),
// moves the versions' sequence past them, and leaves the table as
// autovacuum would (VACUUM ANALYZE) and the server checkpointed.
func (p *postgresTarget) fill(ctx context.Context, d dataset, n int) (int, error) {
	var next, written atomic.Int64
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs[w] = p.copyChunks(ctx, d, n, &next, &written) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return int(written.Load()), err
		}
	}
	conn, err := pgx.Connect(ctx, p.server.DSN)
	if err != nil {
		return n, err
	}
	defer conn.Close(context.Background())
	for _, stmt := range []string{
		fmt.Sprintf("SELECT setval('regiongate_record_versions', %d)", n+2),
		"VACUUM ANALYZE regiongate_records",
		"CHECKPOINT",
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return n, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return n, nil
}

// copyChunks copies chunks of rows until none are left.
func (p *postgresTarget) copyChunks(ctx context.Context, d dataset, n int, next, written *atomic.Int64) error {
	conn, err := pgx.Connect(ctx, p.server.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		start := int(next.Add(postgresChunk)) - postgresChunk
		if start >= n {
			return nil
		}
		i, end := start, min(start+postgresChunk, n)
		rows := pgx.CopyFromFunc(func() ([]any, error) {
			if i == end {
				return nil, nil
			}
			rec := d.record(i)
			var expires *int64
			if rec.Expires != 0 {
				expires = &rec.Expires
			}
			row := []any{d.key(i), rec.Region, rec.Namespace, int64(rec.Version), expires}
			i++
			return row, nil
		})
		copied, err := conn.CopyFrom(ctx, pgx.Identifier{"regiongate_records"}, postgresColumns, rows)
		if err != nil {
			return fmt.Errorf("copying records %d to %d: %w", start, end, err)
		}
		written.Add(copied)
	}
}

// footprint: the table with its indexes (pg_total_relation_size); in
// memory, the proportional set size of the server's processes, shared
// buffers included.
func (p *postgresTarget) footprint(ctx context.Context) (Footprint, error) {
	conn, err := pgx.Connect(ctx, p.server.DSN)
	if err != nil {
		return Footprint{}, err
	}
	defer conn.Close(context.Background())
	var fp Footprint
	if err := conn.QueryRow(ctx, "SELECT pg_total_relation_size('regiongate_records')").Scan(&fp.Disk); err != nil {
		return fp, err
	}
	pid, err := p.server.Pid()
	if err != nil {
		return fp, err
	}
	fp.Memory, err = pssOfTree(pid)
	return fp, err
}
