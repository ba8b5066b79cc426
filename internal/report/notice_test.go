package report_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/report"
)

// A partner's compliance contacts are e-mailed a link when the partner's
// edition of a report about them is ready, once however often it is
// announced; not for the department's edition, nor when their own people
// asked for it. A report whose announcement was lost is announced when an
// archive's worker next goes over the week's reports.
func TestPartnersAreToldOfReportsAboutThem(t *testing.T) {
	db, trail := storeWithDemo(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	partners := partner.NewStore(db)
	notices := report.NewNotices(db, partners, "https://portal.example/")
	if err := notices.Outbox.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	northgate, err := partners.Get(ctx, access.Everything(), "northgate")
	if err != nil {
		t.Fatal(err)
	}
	want := northgate.ComplianceAddresses()
	if len(want) == 0 {
		t.Fatal("the demo's Northgate has no compliance contact to tell")
	}
	targets := func(id string) []string {
		t.Helper()
		ds, err := notices.ForReport(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Target)
		}
		slices.Sort(out)
		return out
	}

	a := report.NewArchive(db, report.NewBuilder(db, trail, nil, nil, nil), log)
	a.Announce = notices.Ready
	october, _ := report.ParsePeriod("2026-10")
	e, _, err := a.Scheduled(ctx, report.Request{Kind: report.PartnerReport, SubjectID: "northgate", Period: october, Edition: report.PartnerEdition}, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := targets(e.ID); !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	ds, _ := notices.ForReport(ctx, e.ID)
	d := ds[0]
	wantBody := "The department has published a safeguarding governance report about " + northgate.Name + " for October 2026.\n\n" +
		"Report: " + e.ID + "\nAbout: " + e.Subject + "\n\n" +
		"Sign in to read it or download the PDF:\nhttps://portal.example/reports/" + e.ID + "\n\n" +
		"The report is marked OFFICIAL-SENSITIVE. Read it in the portal, and share it only with the people in your organisation who need it.\n"
	if d.Channel != escalation.ChannelEmail || d.Subject != "Safeguarding report ready: "+northgate.Name+", October 2026" || d.Body != wantBody || d.PartnerID != "northgate" {
		t.Errorf("notice %q to %s:\n%s\nwant:\n%s", d.Subject, d.Target, d.Body, wantBody)
	}
	if n, err := notices.Ready(ctx, e); err != nil || len(targets(e.ID)) != len(want) {
		t.Errorf("announced again: %d stored (%v), now %d notices; want still %d", n, err, len(targets(e.ID)), len(want))
	}

	// The department's edition, and one the partner's own officer asked for.
	dept, _, err := a.Scheduled(ctx, report.Request{Kind: report.PartnerReport, SubjectID: "northgate", Period: october, Edition: report.DepartmentEdition}, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := targets(dept.ID); len(got) != 0 {
		t.Errorf("the department's edition was sent to %v", got)
	}
	own := e
	own.ID, own.RequestedBy = "RPT-OWN", report.Requester{Subject: "officer", Name: "An Officer", Org: "northgate"}
	if n, err := notices.Ready(ctx, own); n != 0 || err != nil || len(targets(own.ID)) != 0 {
		t.Errorf("a report the partner asked for itself: %d notices (%v)", n, err)
	}

	// Made by an archive that announced nothing (a crash just after).
	quiet := report.NewArchive(db, report.NewBuilder(db, trail, nil, nil, nil), log)
	september, _ := report.ParsePeriod("2026-09")
	lost, _, err := quiet.Scheduled(ctx, report.Request{Kind: report.PartnerReport, SubjectID: "northgate", Period: september, Edition: report.PartnerEdition}, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := targets(lost.ID); len(got) != 0 {
		t.Fatalf("an archive without Announce told %v", got)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(run, 50*time.Millisecond); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(targets(lost.ID), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the lost announcement was not made: %v", targets(lost.ID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
}
