package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Production refuses to start on unsafe settings before touching anything,
// with one message naming the setting.
func TestProductionRefusesToStartUnsafely(t *testing.T) {
	env := map[string]string{"PORTAL_ENV": "production", "PORTAL_BASE_URL": "https://portal.example.gov.uk"}
	var stderr bytes.Buffer
	err := run(nil, func(k string) string { return env[k] }, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "invalid setting MONGODB_URI") {
		t.Fatalf("run = %v, want a refusal naming MONGODB_URI", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"launch"}, func(string) string { return "" }, io.Discard, &stderr); err == nil || !strings.Contains(err.Error(), `unknown command "launch"`) {
		t.Fatalf("run = %v", err)
	}
}

// withEmbeddedStore opens the store in dataDir as the portal would (database
// "portal"), runs f, and stops the store so the command can open it next.
func withEmbeddedStore(t *testing.T, dataDir string, f func(db *mongo.Database)) {
	t.Helper()
	e, err := store.StartEmbedded(filepath.Join(dataDir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	st, err := store.Connect(context.Background(), e.URI(), "portal")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	f(st.DB)
}

func TestAuditVerify(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"PORTAL_DATA_DIR": dataDir}
	getenv := func(k string) string { return env[k] }
	var events []audit.Event
	withEmbeddedStore(t, dataDir, func(db *mongo.Database) {
		tr := audit.New(db)
		for _, action := range []string{"sign_in", "staff.view", "sign_out"} {
			e, err := tr.Record(context.Background(), audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "s1"}, Action: action, Outcome: audit.Success})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
	})

	var stdout, stderr bytes.Buffer
	if err := run([]string{"audit", "verify"}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("audit verify = %v (stderr %s)", err, stderr.String())
	}
	if stdout.String() != "audit trail intact: 3 events\n" {
		t.Fatalf("stdout = %q", stdout.String())
	}

	withEmbeddedStore(t, dataDir, func(db *mongo.Database) {
		if _, err := db.Collection("audit_events").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: int64(2)}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "action", Value: "staff.list"}}}}); err != nil {
			t.Fatal(err)
		}
	})
	stdout.Reset()
	err := run([]string{"audit", "verify"}, getenv, &stdout, &stderr)
	want := "audit event 2 (id " + events[1].EventID + "): hash does not match"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("audit verify of a tampered trail = %v, want it to name %q", err, want)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout = %q", stdout.String())
	}
}

func TestAuditVerifyRefusesMissingStore(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "typo")
	err := run([]string{"audit", "verify"}, func(k string) string { return map[string]string{"PORTAL_DATA_DIR": dataDir}[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORTAL_DATA_DIR") {
		t.Fatalf("audit verify = %v", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("verify created %s", dataDir)
	}
}

func TestAuditNeedsSubcommand(t *testing.T) {
	for _, args := range [][]string{{"audit"}, {"audit", "--config", "x"}, {"audit", "repair"}} {
		if err := run(args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}

// seededDataDir is a development data directory holding the demo data,
// and the settings that point the commands at it.
func seededDataDir(t *testing.T) (string, func(string) string) {
	t.Helper()
	dataDir := t.TempDir()
	env := map[string]string{"PORTAL_DATA_DIR": dataDir, "PORTAL_LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	if err := run([]string{"seed"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return dataDir, getenv
}

// The report command archives a schedule's report once however many
// replicas run it, and each writes the archived bytes.
func TestReportCommandArchivesAScheduleOnce(t *testing.T) {
	dataDir, getenv := seededDataDir(t)
	outDir := t.TempDir()
	var outputs [][]byte
	for _, name := range []string{"first.pdf", "second.pdf"} {
		out := filepath.Join(outDir, name)
		var stdout, stderr bytes.Buffer
		if err := run([]string{"report", "--contract", "CS-ACC-2025-014", "--period", "2026-Q3", "--out", out}, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("report: %v (stderr %s)", err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "CS-ACC-2025-014") {
			t.Fatalf("stdout = %q", stdout.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, b)
	}
	if !bytes.HasPrefix(outputs[0], []byte("%PDF-")) || !bytes.Equal(outputs[0], outputs[1]) {
		t.Fatalf("outputs differ or are not PDFs: %d and %d bytes", len(outputs[0]), len(outputs[1]))
	}
	sum := sha256.Sum256(outputs[0])
	withEmbeddedStore(t, dataDir, func(db *mongo.Database) {
		var entries []struct {
			SHA256 string `bson:"sha256"`
			Status string `bson:"status"`
		}
		cur, err := db.Collection("reports").Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.All(context.Background(), &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Status != "ready" || entries[0].SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("archive = %+v, want one ready report with the file's hash", entries)
		}
	})

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--out", "x.pdf"}, "exactly one of"},
		{[]string{"report", "--portfolio", "--contract", "CS-ACC-2025-014", "--out", "x.pdf"}, "exactly one of"},
		{[]string{"report", "--portfolio"}, "--out"},
		{[]string{"report", "--portfolio", "--period", "2026-13", "--out", "x.pdf"}, "2026-13"},
		{[]string{"report", "--portfolio", "--from", "2026-03-01", "--out", "x.pdf"}, "both --from and --to"},
		{[]string{"report", "--portfolio", "--edition", "partner", "--out", "x.pdf"}, "no partner edition"},
		{[]string{"report", "--contract", "CS-NONE-0000-000", "--out", filepath.Join(outDir, "none.pdf")}, "no contract"},
		{[]string{"report", "--each-partner", "--partner", "northgate", "--out", outDir}, "exactly one of"},
		{[]string{"report", "--each-partner", "--out", filepath.Join(outDir, "first.pdf")}, "give a folder"},
	} {
		err := run(c.args, getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to mention %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(outDir, "none.pdf")); !os.IsNotExist(err) {
		t.Errorf("a failed report left a file behind: %v", err)
	}
}

// The monthly partner editions: one PDF per partner with a live contract,
// archived once however often the command runs that day, and each
// partner's compliance contacts told of theirs.
func TestReportCommandMakesEachPartnersEdition(t *testing.T) {
	dataDir, getenv := seededDataDir(t)
	outDir := filepath.Join(t.TempDir(), "partners") // made by the first run
	var first map[string][]byte
	for range 2 {
		var stdout, stderr bytes.Buffer
		if err := run([]string{"report", "--each-partner", "--edition", "partner", "--period", "2026-10", "--out", outDir}, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("report: %v (stderr %s)", err, stderr.String())
		}
		files := map[string][]byte{}
		for _, id := range []string{"brightwell", "northgate"} {
			b, err := os.ReadFile(filepath.Join(outDir, id+".pdf"))
			if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) || !strings.Contains(stdout.String(), id+".pdf") {
				t.Fatalf("%s: %d bytes, %v; stdout %q", id, len(b), err, stdout.String())
			}
			files[id] = b
		}
		if first == nil {
			first = files
		} else if !bytes.Equal(first["northgate"], files["northgate"]) || !bytes.Equal(first["brightwell"], files["brightwell"]) {
			t.Error("the second run wrote other bytes")
		}
	}
	withEmbeddedStore(t, dataDir, func(db *mongo.Database) {
		ctx := context.Background()
		var entries []struct {
			ID        string `bson:"_id"`
			PartnerID string `bson:"partner_id"`
			Edition   string `bson:"edition"`
		}
		cur, err := db.Collection("reports").Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.All(ctx, &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("archive = %+v, want one report per partner", entries)
		}
		for _, e := range entries {
			n, err := db.Collection("report_notices").CountDocuments(ctx, bson.D{{Key: "incident_id", Value: "report/" + e.ID}, {Key: "partner_id", Value: e.PartnerID}})
			if err != nil || n == 0 || e.Edition != "partner" {
				t.Errorf("%s's %s edition: %d notices stored (%v), want its contacts told", e.PartnerID, e.Edition, n, err)
			}
		}
	})
}
