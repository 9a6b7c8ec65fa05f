package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PostgresBinDir finds PostgreSQL's server programs (initdb, pg_ctl):
// $REGIONGATE_POSTGRES_BIN, else Debian's /usr/lib/postgresql/<version>/bin
// (the newest installed). `make tools` installs Debian's postgresql-15.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("REGIONGATE_POSTGRES_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("PostgreSQL is not installed: run `make tools` as root (Debian: apt-get install -y postgresql-15), or set REGIONGATE_POSTGRES_BIN to the directory holding initdb and pg_ctl")
	}
	return filepath.Dir(found[len(found)-1]), nil
}

// Postgres is a private PostgreSQL server on a free loopback port, its
// data in a directory of its own; never the system's service.
type Postgres struct {
	// DSN reaches the server's "postgres" database as the superuser "rg"
	// (trust authentication: loopback and tests only).
	DSN  string
	dir  string
	data string
	port int
	bin  string
	as   []string // runuser -u postgres -- when running as root
	o    PostgresOptions
}

// PostgresOptions tune StartPostgresWith; the zero value is StartPostgres's
// server.
type PostgresOptions struct {
	// Durable leaves fsync on, as PostgreSQL's default and production have
	// it: for measurements. Tests run without it (Start).
	Durable bool
}

// StartPostgres creates a cluster in a new directory under the system's
// temporary directory (initdb refuses to run as root, so as root it runs
// as the postgres user, who must be able to reach the directory: test
// temporary directories are private to root) and starts it. Stop ends it
// and removes the directory.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	return StartPostgresWith(ctx, PostgresOptions{})
}

// StartPostgresWith is StartPostgres with options.
func StartPostgresWith(ctx context.Context, o PostgresOptions) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "regiongate-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{dir: dir, data: filepath.Join(dir, "data"), bin: bin, o: o}
	if err := p.prepare(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if p.port, err = FreePort(); err != nil {
			break
		}
		// A port taken between the probe and the bind fails the start: retry.
		if err = p.Start(ctx); err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.DSN = fmt.Sprintf("postgres://rg@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	return p, nil
}

// prepare runs initdb, as the postgres user when this process is root.
func (p *Postgres) prepare(ctx context.Context) error {
	if err := os.Chmod(p.dir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running initdb as root needs the postgres user (Debian's postgresql package makes it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Mkdir(p.data, 0o700); err != nil {
			return err
		}
		if err := os.Chown(p.data, uid, gid); err != nil {
			return err
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	return p.run(ctx, "initdb", "-D", p.data, "-A", "trust", "-U", "rg", "-E", "UTF8", "--no-sync")
}

func (p *Postgres) run(ctx context.Context, prog string, args ...string) error {
	argv := append(append([]string(nil), p.as...), append([]string{filepath.Join(p.bin, prog)}, args...)...)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, tail(out, 2000))
	}
	return nil
}

// Start (re)starts the server on its port with its data, and waits until
// it accepts connections. fsync is off unless the options say Durable: the
// tests' durability is the store's logic, not the disk's.
func (p *Postgres) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", p.port, p.data)
	if !p.o.Durable {
		opts += " -c fsync=off"
	}
	return p.run(ctx, "pg_ctl", "-D", p.data, "-o", opts, "-l", filepath.Join(p.data, "server.log"), "-w", "-t", "60", "start")
}

// Pid is the server's main process (the postmaster), from its pid file;
// its backends are that process's children.
func (p *Postgres) Pid() (int, error) {
	data, err := os.ReadFile(filepath.Join(p.data, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// Kill stops the server at once (as a crash would: no shutdown
// checkpoint), keeping its data for Start.
func (p *Postgres) Kill() {
	_ = p.run(context.Background(), "pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop")
}

// Stop ends the server and removes its data.
func (p *Postgres) Stop() {
	p.Kill()
	os.RemoveAll(p.dir)
}
