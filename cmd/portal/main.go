// Command portal runs the Partner Safeguarding Compliance Portal.
//
//	portal [--config FILE]          serve the portal (the default)
//	portal seed [--config FILE]     add the demo data to an empty store
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
	"github.com/department/safeguarding-portal/internal/config"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}
	flags := flag.NewFlagSet("portal "+command, flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", "", "YAML configuration file (see config/portal.example.yaml); environment variables override it")
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
		return app.SeedDemo(ctx, cfg, log)
	default:
		return fmt.Errorf("unknown command %q (want serve or seed)", command)
	}
}
