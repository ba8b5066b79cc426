package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// storeWithDemo gives the test a database of its own holding the demo partners.
func storeWithDemo(t *testing.T) (*mongo.Database, *audit.Trail) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := seed.Generate(ctx, db, trail, slog.New(slog.NewTextHandler(io.Discard, nil)), seed.DemoSize); err != nil {
		t.Fatal(err)
	}
	return db, trail
}

var lead = access.PersonPrincipal(auth.Identity{Subject: "lead", Roles: []auth.Role{auth.SafeguardingLead}, Org: auth.DepartmentOrg}, access.Everything())

func waitReady(t *testing.T, a *report.Archive, id string) report.Entry {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := a.Get(context.Background(), lead, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Status == report.Ready:
			return e
		case e.Status == report.Failed:
			t.Fatalf("report %s failed: %s", id, e.Failure)
		case time.Now().After(deadline):
			t.Fatalf("report %s still %s after 30 s", id, e.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two replicas' workers generate every queued report; each is archived
// with the hash of its PDF, read back byte for byte, and refused once its
// stored bytes are changed.
func TestArchiveWorkersGenerateEveryReportAndKeepItUnchanged(t *testing.T) {
	db, trail := storeWithDemo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	replicas := []*report.Archive{
		report.NewArchive(db, report.NewBuilder(db, trail, nil, nil, nil), log),
		report.NewArchive(db, report.NewBuilder(db, trail, nil, nil, nil), log),
	}
	if err := replicas[0].EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, len(replicas))
	for _, a := range replicas {
		go func() { a.Run(ctx, 50*time.Millisecond); done <- struct{}{} }()
	}
	q3, _ := report.ParsePeriod("2026-Q3")
	by := report.Requester{Subject: "lead", Name: "Lead Person", Org: auth.DepartmentOrg}
	var ids []string
	for _, req := range []report.Request{
		{Kind: report.ContractReport, SubjectID: "CS-ACC-2025-014", Period: q3, Edition: report.DepartmentEdition},
		{Kind: report.PartnerReport, SubjectID: "brightwell", Period: q3, Edition: report.PartnerEdition},
		{Kind: report.PortfolioReport, Period: q3, Edition: report.DepartmentEdition},
	} {
		e, err := replicas[len(ids)%2].Queue(ctx, req, by, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != report.Queued {
			t.Fatalf("queued report is %s", e.Status)
		}
		ids = append(ids, e.ID)
	}
	if _, err := replicas[0].Queue(ctx, report.Request{Kind: report.ContractReport, SubjectID: "CS-NONE", Period: q3}, by, time.Now()); !errors.Is(err, report.ErrNoSubject) {
		t.Errorf("a report on no contract: %v, want ErrNoSubject", err)
	}

	for _, id := range ids {
		e := waitReady(t, replicas[0], id)
		pdf, err := replicas[1].PDF(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) || hex.EncodeToString(sum[:]) != e.SHA256 || int64(len(pdf)) != e.Size || e.Pages < 2 {
			t.Errorf("%s: %d bytes, %d pages, hash %s; archived %s", id, len(pdf), e.Pages, hex.EncodeToString(sum[:]), e.SHA256)
		}
		again, err := replicas[0].PDF(ctx, e)
		if err != nil || !bytes.Equal(pdf, again) {
			t.Errorf("%s: a second download differs (%v)", id, err)
		}
		figures, err := replicas[0].Figures(ctx, e)
		if err != nil || figures.ID != id || figures.Kind != e.Kind || figures.GeneratedBy != "Lead Person" {
			t.Errorf("%s: figures %s %s by %q, %v", id, figures.ID, figures.Kind, figures.GeneratedBy, err)
		}
		rendered, err := report.RenderPDF(figures)
		if err != nil || !bytes.Equal(rendered, pdf) {
			t.Errorf("%s: the archived figures do not render to the archived PDF (%v)", id, err)
		}
	}

	// Someone with database access changes a stored PDF.
	e := waitReady(t, replicas[0], ids[0])
	chunks := db.Collection("report_files.chunks")
	var chunk struct {
		Data []byte `bson:"data"`
	}
	first := bson.D{{Key: "files_id", Value: e.PDFFile}, {Key: "n", Value: 0}}
	if err := chunks.FindOne(ctx, first).Decode(&chunk); err != nil {
		t.Fatal(err)
	}
	chunk.Data[len(chunk.Data)/2] ^= 1
	if _, err := chunks.UpdateOne(ctx, first, bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: chunk.Data}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := replicas[0].PDF(ctx, e); !errors.Is(err, report.ErrIntegrity) {
		t.Errorf("an altered PDF was served: %v", err)
	}

	// A replica stopped while generating: once its lease runs out, another
	// takes the report over; one that has failed three times is given up.
	stale := time.Now().Add(-time.Minute).UTC()
	for id, attempts := range map[string]int{ids[1]: 1, ids[2]: 3} {
		if _, err := db.Collection("reports").UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: report.Running}, {Key: "lease_until", Value: stale}, {Key: "attempts", Value: attempts}, {Key: "worker", Value: "gone"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	replicas[0].Wake()
	if e := waitReady(t, replicas[0], ids[1]); e.Attempts != 2 || e.Worker == "gone" {
		t.Errorf("taken over: attempts %d by %q", e.Attempts, e.Worker)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := replicas[0].Get(ctx, lead, ids[2])
		if err != nil {
			t.Fatal(err)
		}
		if e.Status == report.Failed {
			if e.Failure == "" {
				t.Error("a report given up says nothing about why")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a report that failed three times is %s", e.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range replicas {
		<-done
	}
}

// A scheduled report is made once a day: a run that finds it failed, or
// left by a run that stopped, makes it itself; one that finds it ready
// writes the same bytes.
func TestScheduledReportIsTakenOverWhenItsRunFailedOrStopped(t *testing.T) {
	db, trail := storeWithDemo(t)
	ctx := context.Background()
	a := report.NewArchive(db, report.NewBuilder(db, trail, nil, nil, nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	month, _ := report.ParsePeriod("2026-10")
	req := report.Request{Kind: report.PartnerReport, SubjectID: "northgate", Period: month, Edition: report.DepartmentEdition}
	first, _, err := a.Scheduled(ctx, req, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-time.Minute).UTC()
	for i, state := range []bson.D{
		{{Key: "status", Value: report.Failed}, {Key: "failure", Value: "The scheduled report could not be generated."}},
		{{Key: "status", Value: report.Running}, {Key: "lease_until", Value: stale}, {Key: "worker", Value: "gone"}},
	} {
		if _, err := db.Collection("reports").UpdateOne(ctx, bson.D{{Key: "_id", Value: first.ID}}, bson.D{{Key: "$set", Value: state}}); err != nil {
			t.Fatal(err)
		}
		again, _, err := a.Scheduled(ctx, req, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || again.Status != report.Ready || again.Attempts != first.Attempts+i+1 || again.Failure != "" {
			t.Errorf("run %d: %s %s after %d attempts (%q)", i+2, again.ID, again.Status, again.Attempts, again.Failure)
		}
	}
	last, same, err := a.Scheduled(ctx, req, time.Now(), time.Minute)
	if err != nil || last.ID != first.ID || len(same) == 0 {
		t.Fatalf("a run finding it ready: %s, %d bytes, %v", last.ID, len(same), err)
	}
	if n, err := db.Collection("reports").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("%d reports archived for one schedule (%v)", n, err)
	}
}
