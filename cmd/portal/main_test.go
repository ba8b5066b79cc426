package main

import (
	"bytes"
	"strings"
	"testing"
)

// Production refuses to start on unsafe settings before touching anything,
// with one message naming the setting.
func TestProductionRefusesToStartUnsafely(t *testing.T) {
	env := map[string]string{"PORTAL_ENV": "production", "PORTAL_BASE_URL": "https://portal.example.gov.uk"}
	var stderr bytes.Buffer
	err := run(nil, func(k string) string { return env[k] }, &stderr)
	if err == nil || !strings.Contains(err.Error(), "invalid setting MONGODB_URI") {
		t.Fatalf("run = %v, want a refusal naming MONGODB_URI", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"launch"}, func(string) string { return "" }, &stderr); err == nil || !strings.Contains(err.Error(), `unknown command "launch"`) {
		t.Fatalf("run = %v", err)
	}
}
