package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
)

func seqs(events []audit.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, fmt.Sprint(e.Seq))
	}
	return strings.Join(s, ",")
}

func TestSearchFilters(t *testing.T) {
	tr, _ := newTrail(t)
	ctx := context.Background()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mk := func(minute int, subject, partner, resource, action string) audit.Event {
		return audit.Event{Time: base.Add(time.Duration(minute) * time.Minute), Actor: audit.Actor{Kind: audit.KindPerson, Subject: subject},
			PartnerID: partner, Resource: resource, Action: action, Outcome: audit.Success}
	}
	record(t, tr,
		mk(0, "alice", "p1", "staff/1", "staff.view"),    // 1
		mk(1, "bob", "p1", "staff/2", "staff.update"),    // 2
		mk(2, "alice", "p2", "staff/10", "staff.view"),   // 3
		mk(3, "carol", "", "session/ab", "session.end"),  // 4
		mk(4, "alice", "p1", "staffing/1", "staff.view"), // 5
		mk(5, "bob", "p2", "staff/2", "staff.view"),      // 6
	)
	for name, tc := range map[string]struct {
		q    audit.Query
		want string
	}{
		"all, newest first":        {audit.Query{}, "6,5,4,3,2,1"},
		"actor":                    {audit.Query{Actor: "alice"}, "5,3,1"},
		"actor is exact":           {audit.Query{Actor: "ali"}, ""},
		"partner":                  {audit.Query{PartnerID: "p2"}, "6,3"},
		"resource exact":           {audit.Query{Resource: "staff/2"}, "6,2"},
		"resource exact, no match": {audit.Query{Resource: "staff/"[:5]}, ""},
		"resource prefix":          {audit.Query{Resource: "staff/"}, "6,3,2,1"},
		"resource prefix of one":   {audit.Query{Resource: "staff/1"}, "1"},
		"action":                   {audit.Query{Action: "staff.view"}, "6,5,3,1"},
		"from is inclusive":        {audit.Query{From: base.Add(2 * time.Minute)}, "6,5,4,3"},
		"to is exclusive":          {audit.Query{To: base.Add(2 * time.Minute)}, "2,1"},
		"from and to":              {audit.Query{From: base.Add(time.Minute), To: base.Add(4 * time.Minute)}, "4,3,2"},
		"sub-millisecond bounds":   {audit.Query{From: base.Add(2*time.Minute - time.Microsecond), To: base.Add(4*time.Minute + time.Microsecond)}, "5,4,3"},
		"before seq":               {audit.Query{BeforeSeq: 4}, "3,2,1"},
		"combined":                 {audit.Query{Actor: "alice", PartnerID: "p1", Action: "staff.view", Resource: "staff/", BeforeSeq: 6}, "1"},
	} {
		got, more, err := tr.Search(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if seqs(got) != tc.want || more {
			t.Errorf("%s: got %s (more %v), want %s", name, seqs(got), more, tc.want)
		}
	}
}

func TestSearchPages(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	recordN(t, tr, 7)
	var pages []string
	q := audit.Query{Limit: 3}
	for {
		page, more, err := tr.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, seqs(page))
		if !more {
			break
		}
		q.BeforeSeq = page[len(page)-1].Seq
	}
	if got := strings.Join(pages, " | "); got != "7,6,5 | 4,3,2 | 1" {
		t.Fatalf("pages %s", got)
	}
	// The default and the cap. Search does not look at the chain, so these
	// events go in directly, quicker than appending each.
	var more []any
	for i := range audit.MaxLimit {
		e := event(i)
		e.Seq, e.EventID, e.Time = int64(8+i), fmt.Sprintf("bulk-%d", i), time.Now().UTC()
		more = append(more, e)
	}
	if _, err := db.Collection("audit_events").InsertMany(ctx, more); err != nil {
		t.Fatal(err)
	}
	if page, more, _ := tr.Search(ctx, audit.Query{}); len(page) != audit.DefaultLimit || !more {
		t.Errorf("default page has %d events, more %v", len(page), more)
	}
	if page, more, _ := tr.Search(ctx, audit.Query{Limit: 10_000}); len(page) != audit.MaxLimit || !more {
		t.Errorf("capped page has %d events, more %v", len(page), more)
	}
}

func TestWriteCSV(t *testing.T) {
	tr, _ := newTrail(t)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	events := record(t, tr,
		audit.Event{Time: at, Actor: audit.Actor{Kind: audit.KindPerson, Subject: "=HYPERLINK(\"http://x\")", Roles: []string{"a", "b"}, Org: "p1"},
			Action: "staff.view", Resource: "+staff/1", PartnerID: "p1", Outcome: audit.Success, ClientIP: "-1", RequestID: "@r", Detail: "\tx, \"quoted\"\nline"},
		audit.Event{Time: at.Add(time.Second), Actor: audit.Actor{Kind: audit.KindSystem, Subject: "portal"}, Action: "session.end", Resource: "session/1", Outcome: audit.Success, Detail: "\rcr"},
		audit.Event{Time: at.Add(2 * time.Second), Actor: audit.Actor{Kind: audit.KindClient, Subject: "client-1"}, Action: "staff.view", Resource: "staff/2", PartnerID: "p2", Outcome: audit.Denied},
	)
	var buf bytes.Buffer
	if err := tr.WriteCSV(ctx, &buf, audit.Query{Limit: 1}); err != nil { // Limit is ignored
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "seq,event_id,time,actor_kind,actor_subject,actor_issuer,actor_roles,actor_org,action,resource,partner_id,outcome,client_ip,request_id,detail,prev_hash,hash" {
		t.Fatalf("rows %q", rows)
	}
	first := rows[1]
	want := []string{"1", events[0].EventID, "2025-06-01T12:00:00.000Z", "person", "'=HYPERLINK(\"http://x\")", "", "a;b", "p1", "staff.view",
		"'+staff/1", "p1", "success", "'-1", "'@r", "'\tx, \"quoted\"\nline", "", events[0].Hash}
	if strings.Join(first, "|") != strings.Join(want, "|") {
		t.Fatalf("row 1\n%q\nwant\n%q", first, want)
	}
	if rows[2][14] != "'\rcr" && rows[2][14] != "'\ncr" { // encoding/csv reads a lone CR as a line end
		t.Errorf("detail %q not defused", rows[2][14])
	}
	// Oldest first, so each row's prev_hash is the hash above it.
	if rows[2][0] != "2" || rows[2][15] != rows[1][16] || rows[3][15] != rows[2][16] {
		t.Errorf("rows out of chain order: %q", rows[1:])
	}

	buf.Reset()
	if err := tr.WriteCSV(ctx, &buf, audit.Query{Action: "staff.view", PartnerID: "p2"}); err != nil {
		t.Fatal(err)
	}
	if rows, _ := csv.NewReader(&buf).ReadAll(); len(rows) != 2 || rows[1][0] != "3" {
		t.Fatalf("filtered rows %q", rows)
	}
}
