package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/workflows/codec"
)

type serveFlags struct {
	config, clientAddr, adminAddr, stateDir, tokensFile, logFormat string
	consulAddr, consulPrefix                                       string
	devTokens                                                      bool
	codecKeysFile                                                  string
	requireEncryption                                              bool
	codecOrigins                                                   []string
	devClientKeys                                                  bool
	clientKeysFile                                                 string
	corsOrigins                                                    []string

	recordsPostgres, recordsKeyFile string
	recordsAcceptPlaintext          bool
	recordsSkipMigrate              bool

	tlsCertFile, tlsKeyFile, adminClientCAFile string
	insecureListen                             bool
	limits                                     gatewayd.Limits
}

// serveEnv names the environment variable each flag falls back to.
var serveEnv = map[string]string{
	"config":             "REGIONGATE_CONFIG",
	"consul":             "REGIONGATE_CONSUL",
	"tokens-file":        "REGIONGATE_TOKENS_FILE",
	"codec-keys-file":    "REGIONGATE_CODEC_KEYFILE",
	"require-encryption": "REGIONGATE_REQUIRE_ENCRYPTION",
	"log-format":         "REGIONGATE_LOG_FORMAT",
	"client-keys-file":   "REGIONGATE_CLIENT_KEYS_FILE",
	"cors-origin":        "REGIONGATE_CORS_ORIGINS",
	// The routing records (issues 17 and 20).
	"records-postgres":              "REGIONGATE_RECORDS_POSTGRES",
	"records-key-file":              "REGIONGATE_RECORDS_KEYFILE",
	"records-accept-plaintext":      "REGIONGATE_RECORDS_ACCEPT_PLAINTEXT",
	"records-postgres-skip-migrate": "REGIONGATE_RECORDS_POSTGRES_SKIP_MIGRATE",
	// The listeners: TLS and the limits of issue 15.
	"tls-cert-file":        "REGIONGATE_TLS_CERT_FILE",
	"tls-key-file":         "REGIONGATE_TLS_KEY_FILE",
	"admin-client-ca-file": "REGIONGATE_ADMIN_CLIENT_CA_FILE",
	"insecure-listen":      "REGIONGATE_INSECURE_LISTEN",
	"read-header-timeout":  "REGIONGATE_READ_HEADER_TIMEOUT",
	"read-timeout":         "REGIONGATE_READ_TIMEOUT",
	"write-timeout":        "REGIONGATE_WRITE_TIMEOUT",
	"idle-timeout":         "REGIONGATE_IDLE_TIMEOUT",
	"max-header-bytes":     "REGIONGATE_MAX_HEADER_BYTES",
}

func serveCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: client API and admin API",
		Long: `Run the gateway: the client API and the admin API. A flag not given falls back to the
environment variable in its help.`,
		PreRunE: func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, serveEnv, os.Getenv) },
		RunE:    func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), f) },
	}
	c.Flags().StringVar(&f.config, "config", "",
		"region config file, watched and written by PUT /admin/v1/config (default: <state-dir>/config.yaml, seeded from the embedded configs/dev.yaml); with --consul, only seeds an empty key")
	c.Flags().StringVar(&f.consulAddr, "consul", "",
		"Consul HTTP address (e.g. 127.0.0.1:8500): keep config, routing records, drains and audit in its KV, shared by every replica")
	c.Flags().StringVar(&f.consulPrefix, "consul-prefix", "regiongate/", "Consul KV prefix")
	c.Flags().StringVar(&f.clientAddr, "client-addr", "127.0.0.1:8080", "client API listen address")
	c.Flags().StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:8081", "admin API listen address")
	c.Flags().StringVar(&f.stateDir, "state-dir", ".regiongate", "directory for local state: config copy, routing records, drains, audit log")
	c.Flags().StringVar(&f.tokensFile, "tokens-file", "", "admin tokens file: lines of \"name roles sha256hex\"")
	c.Flags().BoolVar(&f.devTokens, "dev-tokens", false, "accept the contract's dev-only admin tokens (never in production)")
	c.Flags().BoolVar(&f.devClientKeys, "dev-client-keys", false, "accept the contract's dev-only client keys dev-client-acme, -globex, -northwind (never in production)")
	c.Flags().StringVar(&f.clientKeysFile, "client-keys-file", "", "client API keys file: lines of \"name tenant sha256hex\", re-read when it changes (also $REGIONGATE_CLIENT_KEYS, ';'-separated, and with --consul the key <prefix>client-keys)")
	c.Flags().StringSliceVar(&f.corsOrigins, "cors-origin", nil, "browser origin (e.g. https://app.example) allowed to call the client and admin APIs across origins; repeatable")
	c.Flags().StringVar(&f.logFormat, "log-format", "json", "json or text")
	c.Flags().StringVar(&f.codecKeysFile, "codec-keys-file", "",
		"payload encryption keys for every region without "+codec.EnvName("<region>")+": \"id:base64key\" per line, the first active (see docs/workflows.md)")
	c.Flags().BoolVar(&f.requireEncryption, "require-encryption", false,
		"refuse to start, or to take a config, with a region that has no payload encryption keys")
	c.Flags().StringSliceVar(&f.codecOrigins, "codec-cors-origin", nil,
		"browser origin (the Temporal UI's, e.g. http://localhost:8233) allowed to call the admin listener's /codec/ endpoint; repeatable")
	listenFlags(c, &f)
	recordsFlags(c, &f)
	for name, env := range serveEnv {
		c.Flags().Lookup(name).Usage += " [$" + env + "]"
	}
	return c
}

// listenFlags are the listeners' TLS and limits.
func listenFlags(c *cobra.Command, f *serveFlags) {
	fl := c.Flags()
	fl.StringVar(&f.tlsCertFile, "tls-cert-file", "", "certificate (PEM: the certificate, then its chain) for TLS on both listeners, with HTTP/2; re-read when it changes, no restart")
	fl.StringVar(&f.tlsKeyFile, "tls-key-file", "", "the listener certificate's private key (PEM); re-read when it changes")
	fl.StringVar(&f.adminClientCAFile, "admin-client-ca-file", "",
		"CA certificates (PEM): the admin listener then requires a client certificate signed by one (needs --tls-cert-file); re-read when it changes")
	fl.BoolVar(&f.insecureListen, "insecure-listen", false,
		"allow plain text on an address that is not loopback, when TLS ends in front of the gateway (a load balancer, a mesh)")
	fl.DurationVar(&f.limits.ReadHeaderTimeout, "read-header-timeout", gatewayd.DefaultReadHeaderTimeout, "longest a client may take to send its request headers (and the TLS handshake)")
	fl.DurationVar(&f.limits.ReadTimeout, "read-timeout", gatewayd.DefaultReadTimeout, "longest a client may take to send a whole request, body included")
	fl.DurationVar(&f.limits.WriteTimeout, "write-timeout", gatewayd.DefaultWriteTimeout,
		"longest from the end of a request's headers to the end of its answer; keep it above --read-timeout plus the largest region callTimeout")
	fl.DurationVar(&f.limits.IdleTimeout, "idle-timeout", gatewayd.DefaultIdleTimeout, "longest a kept-alive connection may wait for its next request")
	fl.IntVar(&f.limits.MaxHeaderBytes, "max-header-bytes", gatewayd.DefaultMaxHeaderBytes, "largest request headers accepted, in bytes (431 beyond)")
}

func adminTokens(f serveFlags) ([]gateway.Token, error) {
	var tokens []gateway.Token
	if f.devTokens {
		tokens = append(tokens, gateway.DevTokens()...)
	}
	if f.tokensFile != "" {
		t, err := gateway.LoadTokensFile(f.tokensFile)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, t...)
	}
	if env := os.Getenv("REGIONGATE_ADMIN_TOKENS"); env != "" {
		t, err := gateway.ParseTokens(strings.ReplaceAll(env, ";", "\n"))
		if err != nil {
			return nil, fmt.Errorf("REGIONGATE_ADMIN_TOKENS: %w", err)
		}
		tokens = append(tokens, t...)
	}
	return tokens, nil
}

func serve(ctx context.Context, f serveFlags) error { return runGateway(ctx, f, gatewayHooks{}) }

// gatewayHooks let `regiongate bench` run a gateway process through
// serve's own code, so what it measures is what serve runs. Nil hooks do
// nothing.
type gatewayHooks struct {
	// options adjusts the assembly's options once the stores are open.
	options func(*gatewayd.Options)
	// listening hears where the gateway listens, before it serves.
	listening func(gatewayd.Listeners) error
}

func runGateway(ctx context.Context, f serveFlags, hooks gatewayHooks) error {
	logger := newLogger(f.logFormat)
	tokens, err := adminTokens(f)
	if err != nil {
		return err
	}
	o := gatewayd.Options{
		Tokens: tokens, Logger: logger, AllowOrigins: f.corsOrigins,
		ClientKeys:   gatewayd.ClientKeys{Dev: f.devClientKeys, File: f.clientKeysFile, Env: os.Getenv("REGIONGATE_CLIENT_KEYS")},
		CodecKeys:    codec.Source{File: f.codecKeysFile, Require: f.requireEncryption},
		CodecOrigins: f.codecOrigins,
	}
	// Listen first: a refused address or a missing certificate stops
	// start-up before anything is dialled.
	ls, err := gatewayd.ListenWith(gatewayd.ListenOptions{
		ClientAddr: f.clientAddr, AdminAddr: f.adminAddr,
		CertFile: f.tlsCertFile, KeyFile: f.tlsKeyFile, AdminClientCAFile: f.adminClientCAFile,
		InsecureListen: f.insecureListen, Limits: f.limits, Logger: logger,
	})
	if errors.Is(err, gatewayd.ErrPlainTextListen) {
		return fmt.Errorf("%w: give --tls-cert-file and --tls-key-file, or --insecure-listen when TLS ends in front of the gateway", err)
	}
	if err != nil {
		return err
	}
	closeStores, err := openStores(ctx, f, &o)
	if err != nil {
		ls.Close()
		return err
	}
	defer closeStores()
	if hooks.options != nil {
		hooks.options(&o)
	}
	gw, err := gatewayd.Start(ctx, o)
	if err != nil {
		ls.Close()
		return err
	}
	defer gw.Close()
	if hooks.listening != nil {
		if err := hooks.listening(ls); err != nil {
			ls.Close()
			return err
		}
	}
	go reloadOnSIGHUP(ctx, gw.Server, logger)
	logger.Info("gateway starting", "client", ls.ClientURL(), "admin", ls.AdminURL(), "admin_client_certificates", f.adminClientCAFile != "",
		"config_source", o.ConfigSource.String(), "config_version", gw.Server.Config().Version(), "admin_tokens", len(tokens))
	return gw.Serve(ctx, ls)
}

// reloadOnSIGHUP re-reads the config source on SIGHUP, as operators expect.
func reloadOnSIGHUP(ctx context.Context, srv *gateway.Server, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := srv.ReloadConfig(ctx); err != nil {
				logger.Error("reload on SIGHUP refused; the previous config stays in force", "error", err)
			}
		}
	}
}
