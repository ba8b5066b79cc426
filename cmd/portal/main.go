// Command portal runs the Partner Safeguarding Compliance Portal.
//
//	portal [--config FILE]                serve the portal (the default)
//	portal seed [--config FILE] [--partners N --staff N]
//	                                      add a deterministic dataset to an empty store
//	                                      (default: the demo partners; e.g. --partners 20 --staff 50000)
//	portal audit verify [--config FILE]   check that the audit trail is intact; exits 1 if not
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // dates are shown in Europe/London even in images without zoneinfo

	"github.com/department/safeguarding-portal/internal/app"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/store"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}
	if command == "audit" {
		if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
			return errors.New("audit needs a subcommand (want audit verify)")
		}
		command, args = command+" "+args[0], args[1:]
	}
	flags := flag.NewFlagSet("portal "+command, flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", "", "YAML configuration file (see config/portal.example.yaml); environment variables override it")
	var size seed.Size
	if command == "seed" {
		flags.IntVar(&size.Partners, "partners", seed.DemoSize.Partners, "how many partners (the first two are the demo partners)")
		flags.IntVar(&size.Staff, "staff", seed.DemoSize.Staff, "how many staff in all, spread evenly across the partners")
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath, getenv)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			return fmt.Errorf("invalid setting %s", cerr)
		}
		return err
	}
	log := app.NewLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch command {
	case "serve":
		return app.Serve(ctx, cfg, log)
	case "seed":
		return app.SeedDemo(ctx, cfg, log, size)
	case "audit verify":
		return auditVerify(ctx, cfg, stdout)
	case "rebuild":
		return app.Rebuild(ctx, cfg, log, stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, rebuild or audit verify)", command)
	}
}

// auditVerify checks the audit trail and changes nothing: no indexes, no
// recovery of pending events, no repair of the head, so what it reports is what
// is stored. A broken trail is returned as an error, so the command exits 1.
func auditVerify(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	if cfg.EmbeddedStore() {
		// Starting the embedded store creates its directory: a mistyped data
		// directory would verify an empty trail and call it intact.
		if _, err := os.Stat(cfg.EmbeddedStoreDir()); err != nil {
			return fmt.Errorf("no embedded store to verify at %s (PORTAL_DATA_DIR): %w", cfg.EmbeddedStoreDir(), err)
		}
	}
	st, closeStore, err := store.Open(ctx, cfg.MongoURI, cfg.EmbeddedStoreDir(), cfg.MongoDatabase)
	if err != nil {
		return err
	}
	defer closeStore()
	n, err := audit.New(st.DB).Verify(ctx)
	var broken *audit.BrokenError
	if errors.As(err, &broken) {
		return fmt.Errorf("audit trail broken after %d intact events: %w", n, err)
	}
	if err != nil {
		return fmt.Errorf("verify audit trail: %w", err)
	}
	fmt.Fprintf(stdout, "audit trail intact: %d events\n", n)
	return nil
}
