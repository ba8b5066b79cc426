package evidence_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/department/safeguarding-portal/internal/evidence"
)

// FuzzCheck: no input panics; every refusal is a *Refusal with a message;
// whatever is accepted starts as what it claims to be and passes Check again
// as the same kind.
func FuzzCheck(f *testing.F) {
	png, jpg := pngFile(f), jpegFile(f)
	for _, seed := range [][]byte{
		certificatePDF(),
		objStmPDF(pdfCatalog, true),
		objStmPDF("<< /Type /Catalog /OpenAction << /S /JavaScript /JS (x) >> >>", false),
		certificatePDFWith(pdfCatalog, pdfStream("/Type /ObjStm /N 1 /First 4 /Filter [/ASCII85Decode /FlateDecode]", a85(deflate([]byte("9 0 << /S /J#61vaScript >>"))))),
		certificatePDFWith(pdfCatalog, pdfStream("/Filter /RunLengthDecode", []byte{2, 'a', 'b', 'c', 200, 'x', 128})),
		certificatePDFWith(pdfCatalog, pdfStream("/Filter /ASCIIHexDecode", []byte("41 42 4>"))),
		png, jpg,
		withEXIF(jpg, 6),
		pixelFloodPNG(65535, 65535),
		pixelFloodJPEG(f, 65535, 65535),
		cat(jpg, zipFile(f, "a", "b")),
		[]byte("<svg/>"),
	} {
		f.Add(seed, "certificate.pdf")
	}
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Length 5 >>\nstream\r\nabc"), "a\u202e.pdf")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		const maxBytes = 1 << 20
		stored, ct, err := evidence.Check(name, data, maxBytes)
		if err != nil {
			var r *evidence.Refusal
			if !errors.As(err, &r) || r.Message == "" {
				t.Fatalf("err = %v; want a Refusal with a message", err)
			}
			return
		}
		sig := map[string][]byte{
			evidence.PDF:  []byte("%PDF-"),
			evidence.PNG:  []byte("\x89PNG\r\n\x1a\n"),
			evidence.JPEG: {0xFF, 0xD8, 0xFF},
		}[ct]
		if sig == nil || !bytes.HasPrefix(stored, sig) {
			t.Fatalf("accepted as %q, stored bytes start %q", ct, stored[:min(len(stored), 8)])
		}
		_, ct2, err := evidence.Check(name, stored, max(maxBytes, int64(len(stored))))
		if err != nil || ct2 != ct {
			t.Fatalf("stored copy re-checks as %q, %v; want %q", ct2, err, ct)
		}
	})
}
