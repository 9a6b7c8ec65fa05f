package regions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresSchema is the records schema, applied by PostgresRecords.Migrate
// (when OpenPostgresRecords opens a store, or at the first call that
// reaches the database). Every statement is idempotent. Operators whose
// gateways may not run DDL apply it themselves (`regiongate records
// schema` prints it) and open with PostgresOptions.SkipMigrate (`serve
// --records-postgres-skip-migrate`).
//
// Versions come from one sequence for all keys, so a version never
// repeats, for one key or across keys, as Record.Version requires. The
// expiry index is partial: only records whose workflow has closed are in
// it, and the batched deletes of RemoveExpired walk it.
const PostgresSchema = `
CREATE SEQUENCE IF NOT EXISTS regiongate_record_versions;
CREATE TABLE IF NOT EXISTS regiongate_records (
	key        text PRIMARY KEY,
	region     text NOT NULL,
	namespace  text NOT NULL DEFAULT '',
	version    bigint NOT NULL,
	expires_at bigint,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS regiongate_records_expiry ON regiongate_records (expires_at) WHERE expires_at IS NOT NULL;
`

// PostgresOptions tune OpenPostgresRecords; the zero value migrates the
// schema and uses pgx's pool defaults.
type PostgresOptions struct {
	// SkipMigrate leaves the schema alone (it was applied by hand).
	SkipMigrate bool
	// MaxConns caps the pool; zero takes pgx's default (4, or the number
	// of CPUs if more).
	MaxConns int32
}

// PostgresRecords keeps routing records in one PostgreSQL table, shared by
// every gateway replica. Claim is one conditional insert (ON CONFLICT DO
// NOTHING); Move, Release and Expire are compare-and-set updates and
// deletes on the whole record (placement, version and expiry).
type PostgresRecords struct {
	pool *pgxpool.Pool
	// migrated is set once the schema is known to be in place; until then
	// every call applies it first, one at a time (concurrent CREATE ... IF
	// NOT EXISTS of one table can collide in PostgreSQL's catalog).
	migrated  atomic.Bool
	migrating sync.Mutex
}

// OpenPostgresRecords prepares a pool for the database at dsn (a
// PostgreSQL URL or key=value string; PG* variables apply) and, unless
// told not to, applies PostgresSchema. A database that cannot be reached
// is not an error: a gateway must start (and serve reads) while its records
// store is down, so the schema is applied by the first call that reaches
// it. Only a dsn that cannot be parsed, or a schema the database refuses,
// is an error.
func OpenPostgresRecords(ctx context.Context, dsn string, o PostgresOptions) (*PostgresRecords, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("routing records database: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("routing records database: %w", err)
	}
	p := &PostgresRecords{pool: pool}
	p.migrated.Store(o.SkipMigrate)
	if err := p.ready(ctx); err != nil && p.reached(ctx) {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// Migrate applies PostgresSchema.
func (p *PostgresRecords) Migrate(ctx context.Context) error {
	if _, err := p.pool.Exec(ctx, PostgresSchema); err != nil {
		return storeErr("creating the routing records schema", err)
	}
	p.migrated.Store(true)
	return nil
}

// ready applies the schema if no call has yet.
func (p *PostgresRecords) ready(ctx context.Context) error {
	if p.migrated.Load() {
		return nil
	}
	p.migrating.Lock()
	defer p.migrating.Unlock()
	if p.migrated.Load() {
		return nil
	}
	return p.Migrate(ctx)
}

// reached reports whether the database answers at all: a schema it
// refuses is an operator's error, one it never heard of is an outage.
func (p *PostgresRecords) reached(ctx context.Context) bool { return p.pool.Ping(ctx) == nil }

// Close closes the pool.
func (p *PostgresRecords) Close() { p.pool.Close() }

// nullable is a record's expiry as the column holds it.
func nullable(expires int64) *int64 {
	if expires == 0 {
		return nil
	}
	return &expires
}

// is matches the whole record from: the compare of every compare-and-set.
const is = `key = $1 AND version = $2 AND region = $3 AND namespace = $4 AND expires_at IS NOT DISTINCT FROM $5`

func isArgs(key string, from Record) []any {
	return []any{key, int64(from.Version), from.Region, from.Namespace, nullable(from.Expires)}
}

// Lookup implements Records.
func (p *PostgresRecords) Lookup(ctx context.Context, key string) (Record, error) {
	if err := p.ready(ctx); err != nil {
		return Record{}, err
	}
	var rec Record
	var version int64
	var expires *int64
	err := p.pool.QueryRow(ctx, `SELECT region, namespace, version, expires_at FROM regiongate_records WHERE key = $1`, key).
		Scan(&rec.Region, &rec.Namespace, &version, &expires)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Record{}, nil
	case err != nil:
		return Record{}, storeErr("reading routing record "+key, err)
	}
	rec.Version = uint64(version)
	if expires != nil {
		rec.Expires = *expires
	}
	return rec, nil
}

// Claim implements Records.
func (p *PostgresRecords) Claim(ctx context.Context, key string, at Placement) (Record, error) {
	if err := p.ready(ctx); err != nil {
		return Record{}, err
	}
	var version int64
	err := p.pool.QueryRow(ctx, `INSERT INTO regiongate_records (key, region, namespace, version)
		VALUES ($1, $2, $3, nextval('regiongate_record_versions'))
		ON CONFLICT (key) DO NOTHING RETURNING version`, key, at.Region, at.Namespace).Scan(&version)
	switch {
	case err == nil:
		return Record{Placement: at, Version: uint64(version)}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return Record{}, storeErr(fmt.Sprintf("claiming %s for %s", key, at), err)
	}
	existing, err := p.Lookup(ctx, key)
	switch {
	case err != nil:
		return Record{}, err
	case existing.Region == "":
		// Released between the insert and the read: try again.
		return Record{}, ErrRecordChanged
	}
	return existing, ErrRecordExists
}

// rewrite sets placement and expiry of key's record with a new version,
// only if it is still from.
func (p *PostgresRecords) rewrite(ctx context.Context, key string, from Record, to Placement, expires int64) (Record, error) {
	if err := p.ready(ctx); err != nil {
		return Record{}, err
	}
	var version int64
	args := append(isArgs(key, from), to.Region, to.Namespace, nullable(expires))
	err := p.pool.QueryRow(ctx, `UPDATE regiongate_records
		SET region = $6, namespace = $7, expires_at = $8, version = nextval('regiongate_record_versions'), updated_at = now()
		WHERE `+is+` RETURNING version`, args...).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Record{}, ErrRecordChanged
	case err != nil:
		return Record{}, storeErr("writing routing record "+key, err)
	}
	return Record{Placement: to, Version: uint64(version), Expires: expires}, nil
}

// Move implements Records.
func (p *PostgresRecords) Move(ctx context.Context, key string, from Record, to Placement) (Record, error) {
	if from.Version == 0 {
		return Record{}, ErrRecordChanged
	}
	return p.rewrite(ctx, key, from, to, from.Expires)
}

// Release implements Records.
func (p *PostgresRecords) Release(ctx context.Context, key string, from Record) error {
	if err := p.ready(ctx); err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM regiongate_records WHERE `+is, isArgs(key, from)...)
	switch {
	case err != nil:
		return storeErr("releasing "+key, err)
	case tag.RowsAffected() == 0:
		return ErrRecordChanged
	}
	return nil
}

// Expire implements Records.
func (p *PostgresRecords) Expire(ctx context.Context, key string, from Record, at time.Time) (Record, error) {
	if from.Version == 0 {
		return Record{}, ErrRecordChanged
	}
	if from.Expires == expiryOf(at) {
		return sameExpiry(ctx, p, key, from)
	}
	return p.rewrite(ctx, key, from, from.Placement, expiryOf(at))
}

// RemoveExpired implements Records: one batched delete through the
// expiry index. SKIP LOCKED lets several replicas sweep at once without
// waiting on each other's rows.
func (p *PostgresRecords) RemoveExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := p.ready(ctx); err != nil {
		return 0, err
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM regiongate_records WHERE key IN (
		SELECT key FROM regiongate_records WHERE expires_at <= $1
		ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, now.Unix(), limit)
	if err != nil {
		return 0, storeErr("removing expired routing records", err)
	}
	return int(tag.RowsAffected()), nil
}

// Count implements Records.
func (p *PostgresRecords) Count(ctx context.Context) (int, error) {
	if err := p.ready(ctx); err != nil {
		return 0, err
	}
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM regiongate_records`).Scan(&n); err != nil {
		return 0, storeErr("counting routing records", err)
	}
	return int(n), nil
}
