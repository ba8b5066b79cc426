// Command portal runs the Partner Safeguarding Compliance Portal.
//
//	portal [--config FILE]                serve the portal (the default)
//	portal seed [--config FILE] [--partners N --staff N]
//	                                      add a deterministic dataset to an empty store
//	                                      (default: the demo partners; e.g. --partners 20 --staff 50000)
//	portal audit verify [--config FILE]   check that the audit trail is intact; exits 1 if not
//	portal report --contract ID | --partner ID | --portfolio | --each-partner
//	       [--period 2026-11 | 2026-Q3 | --from 2026-01-01 --to 2026-03-31]
//	       [--edition department|partner] --out FILE|FOLDER [--config FILE]
//	                                      generate a governance report, archive it and write its PDF
//	                                      (default period: last month); safe to run on every replica;
//	                                      --each-partner writes one per partner to FOLDER/<partner>.pdf
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
	"time"
	_ "time/tzdata" // dates are shown in Europe/London even in images without zoneinfo

	"github.com/department/safeguarding-portal/internal/app"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/report"
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
	var rf reportFlags
	if command == "report" {
		rf.define(flags)
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	var req report.Request
	if command == "report" {
		var err error
		if req, err = rf.request(time.Now()); err != nil {
			return err
		}
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
	case "report":
		if rf.eachPartner {
			return app.ReportEachPartner(ctx, cfg, log, req, rf.out, stdout)
		}
		return app.Report(ctx, cfg, log, req, rf.out, stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, rebuild, report or audit verify)", command)
	}
}

// reportFlags are the report command's choices.
type reportFlags struct {
	contract, partner         string
	portfolio, eachPartner    bool
	period, from, to, edition string
	out                       string
}

func (rf *reportFlags) define(flags *flag.FlagSet) {
	flags.StringVar(&rf.contract, "contract", "", "report on this contract (its reference)")
	flags.StringVar(&rf.partner, "partner", "", "report on this partner and all its contracts (its ID)")
	flags.BoolVar(&rf.portfolio, "portfolio", false, "report on every partner's contracts, for senior management")
	flags.BoolVar(&rf.eachPartner, "each-partner", false, "report on each partner with a live contract, one PDF each in the --out folder")
	flags.StringVar(&rf.period, "period", "", "a month (2026-11) or a quarter (2026-Q3); default: last month")
	flags.StringVar(&rf.from, "from", "", "first day of a custom period (2026-01-15), with --to")
	flags.StringVar(&rf.to, "to", "", "last day of a custom period, with --from")
	flags.StringVar(&rf.edition, "edition", string(report.DepartmentEdition), "department (with escalations) or partner (to share with the partner)")
	flags.StringVar(&rf.out, "out", "", "file to write the PDF to (with --each-partner, the folder)")
}

// request reads the flags as a report request; the default period is the
// last whole month before now.
func (rf reportFlags) request(now time.Time) (report.Request, error) {
	var req report.Request
	chosen := 0
	for _, choice := range []struct {
		kind report.Kind
		set  bool
	}{{report.ContractReport, rf.contract != ""}, {report.PartnerReport, rf.partner != ""}, {report.PortfolioReport, rf.portfolio}, {report.PartnerReport, rf.eachPartner}} {
		if choice.set {
			chosen++
			req.Kind = choice.kind
		}
	}
	if chosen != 1 {
		return req, errors.New("report needs exactly one of --contract ID, --partner ID, --each-partner or --portfolio")
	}
	req.SubjectID = rf.contract + rf.partner
	if rf.out == "" {
		return req, errors.New("report needs --out FILE")
	}
	switch report.Edition(rf.edition) {
	case report.DepartmentEdition, report.PartnerEdition:
		req.Edition = report.Edition(rf.edition)
	default:
		return req, fmt.Errorf("--edition %q: want department or partner", rf.edition)
	}
	if req.Kind == report.PortfolioReport && req.Edition == report.PartnerEdition {
		return req, errors.New("the portfolio report has no partner edition")
	}
	var err error
	switch {
	case rf.period != "" && (rf.from != "" || rf.to != ""):
		return req, errors.New("give --period or --from and --to, not both")
	case rf.from != "" || rf.to != "":
		if rf.from == "" || rf.to == "" {
			return req, errors.New("a custom period needs both --from and --to")
		}
		req.Period, err = report.CustomPeriod(rf.from, rf.to)
	case rf.period != "":
		req.Period, err = report.ParsePeriod(rf.period)
	default:
		req.Period, err = report.ParsePeriod(portfolio.PreviousMonth(now))
	}
	return req, err
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
