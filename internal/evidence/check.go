// Package evidence checks the files partner organisations upload as evidence
// (training certificates, DBS and vetting evidence) and keeps them in GridFS,
// each partner's files reachable by that partner only.
//
// The files describe people who work with children and vulnerable adults, and
// department staff open them on managed laptops. A hostile upload is a way in
// (a PDF that runs script, a program renamed .pdf, a page that runs in the
// portal's origin) and an innocent one can be a way out (a phone photo that
// carries where it was taken). So a file is judged by its content alone,
// anything that is not plainly a PDF, PNG or JPEG is refused with a message
// the uploader can act on, and images are redrawn so only their pixels are
// kept.
package evidence

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Kinds accepted: what a contract manager's laptop opens without running
// anything, and what a certificate or a photo of one is saved as.
const (
	PDF  = "application/pdf"
	PNG  = "image/png"
	JPEG = "image/jpeg"
)

// DefaultMaxBytes is the size limit used when a caller passes none, so a
// forgotten setting never means "unlimited".
const DefaultMaxBytes = 10 << 20

// MaxPixels bounds an image's width × height. A few hundred bytes of PNG or
// JPEG can declare a picture that needs gigabytes to decode (a "pixel
// flood"); 50 megapixels still admits every phone camera's full resolution.
const MaxPixels = 50_000_000

// Refusal is an upload problem written for the person uploading, in GOV.UK
// error message style: the portal shows Message as it is, so it says what is
// wrong and what to do, never how the check works.
type Refusal struct{ Message string }

func (r *Refusal) Error() string { return r.Message }

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Message: fmt.Sprintf(format, args...)}
}

// Messages shown to uploaders.
const (
	msgKind         = "The selected file must be a PDF, PNG or JPEG"
	msgEmpty        = "The selected file is empty"
	msgTooBig       = "The selected file must be smaller than %s"
	msgActive       = "The selected file contains active content (%s) and cannot be accepted. Save it as a plain PDF or take a photo of the certificate"
	msgEncrypted    = "The selected file is password protected. Remove the password, save it as a PDF and upload it again"
	msgDamagedPDF   = "The selected file is not a complete PDF. It may be damaged or only partly downloaded. Save it again as a PDF and upload the new copy"
	msgComplex      = "The selected file is too complex to check. Save it as a plain PDF or take a photo of the certificate"
	msgHidden       = "The selected file contains hidden content (%s) and cannot be accepted. Save it again as a PDF, PNG or JPEG"
	msgDamagedImage = "The selected image could not be read. It may be damaged or only partly saved. Save it again or take a new photo"
	msgPixels       = "The selected image must be smaller than 50 megapixels. Save it at a lower resolution and upload it again"
)

// Check decides what an upload is from its content alone, never from its name
// or the type the browser declared: both are chosen by the uploader, and a
// program named certificate.pdf is still a program. It refuses, with a
// *Refusal, anything that is not plainly a PDF, PNG or JPEG, anything that
// could run when opened, and anything carrying a second file inside it.
//
// It returns the bytes to store and their content type. PDFs are stored as
// uploaded (after the checks). Images are decoded and encoded again: that
// drops metadata such as a photo's GPS position and anything hidden after or
// between the pixels, and applies the photo's rotation so the stored copy
// looks the same without it. The stored copy of an image may therefore be a
// little larger or smaller than the upload. Images are redrawn two at a time
// across the process (see decoders); a third upload waits.
//
// maxBytes of zero or less means DefaultMaxBytes.
func Check(name string, data []byte, maxBytes int64) (stored []byte, contentType string, err error) {
	if _, err := DisplayName(name); err != nil {
		return nil, "", err
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if len(data) == 0 {
		return nil, "", refuse(msgEmpty)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", refuse(msgTooBig, sizeText(maxBytes))
	}
	kind := kindOf(data)
	if kind == "" {
		if bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
			// Readers accept a header a little way in, which is how a
			// PDF is made to be a web page or an archive as well.
			return nil, "", refuse(msgDamagedPDF)
		}
		return nil, "", refuse(msgKind)
	}
	if r := findSecondFile(data); r != nil {
		return nil, "", r
	}
	switch kind {
	case PDF:
		if r := checkPDF(data); r != nil {
			return nil, "", r
		}
		return data, PDF, nil
	case PNG:
		stored, err = redrawPNG(data)
	default:
		stored, err = redrawJPEG(data)
	}
	if err != nil {
		return nil, "", err
	}
	return stored, kind, nil
}

var (
	pngSignature  = []byte("\x89PNG\r\n\x1a\n")
	jpegSignature = []byte{0xFF, 0xD8, 0xFF}
	pdfSignature  = []byte("%PDF-")
)

// kindOf names the accepted kind data starts as, or "". Only the first bytes
// count: a PDF reader also accepts a header further in, and an archive
// reader looks at the end, which is how one file is made to be two.
func kindOf(data []byte) string {
	switch {
	case bytes.HasPrefix(data, pdfSignature):
		return PDF
	case bytes.HasPrefix(data, pngSignature):
		return PNG
	case bytes.HasPrefix(data, jpegSignature):
		return JPEG
	}
	return ""
}

// sizeText writes a limit the way the uploader's computer shows file sizes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// htmlMarkers are the starts of tags that make a file a web page or an SVG
// with script: sniffed as HTML (as older browsers and plug-ins did with any
// tag in a file's first bytes) it would run in whatever origin opened it.
// They cannot occur in a PDF outside a string, and a certificate's text has
// no reason to hold them. Tags like <object> are left out: manuals quote
// them in plain text ("<object definition>"), and without one of these they
// do not make a page.
//
// A marker counts only where the tag name ends, at one of tagNameEnds, as
// it must to be read as that tag. Compressed data (a scan's image, a
// photo) is near random, and there "<svg" in any case turns up by chance
// about once in 2^29 bytes: one 2 MB photo in 256 was refused for it. With
// the end of the name required, about once in 2^34 bytes.
var htmlMarkers = [][]byte{
	[]byte("<script"), []byte("<html"), []byte("<!doctype html"), []byte("<svg"), []byte("<iframe"),
}

// tagNameEnds are the bytes that end a tag's name in HTML.
const tagNameEnds = " \t\n\f\r/>"

// findSecondFile refuses a file that is also another file: a web page, or an
// archive whose directory an archive reader (or a Java plug-in, the GIFAR
// attack) finds at the end. Redrawing an image would drop such a payload, but
// a file built to be two things was built to attack, so it is not kept.
func findSecondFile(data []byte) *Refusal {
	for i := 0; ; i++ {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		for _, m := range htmlMarkers {
			end := i + len(m)
			if end < len(data) && bytes.EqualFold(data[i:end], m) && strings.IndexByte(tagNameEnds, data[end]) >= 0 {
				return refuse(msgHidden, "a web page")
			}
		}
	}
	if hasZipRecord(data) {
		return refuse(msgHidden, "a compressed folder")
	}
	return nil
}

// hasZipRecord looks for a ZIP local file header or end-of-directory record
// whose fixed fields are plausible, so random compressed bytes that happen to
// contain "PK\x03\x04" (one chance in 2^32 per byte) are not taken for one.
func hasZipRecord(data []byte) bool {
	for i := 0; ; i++ {
		j := bytes.Index(data[i:], []byte("PK"))
		if j < 0 || i+j+22 > len(data) {
			return false
		}
		i += j
		rest := data[i:]
		switch {
		case len(rest) >= 30 && rest[2] == 3 && rest[3] == 4:
			version := binary.LittleEndian.Uint16(rest[4:])
			method := binary.LittleEndian.Uint16(rest[8:])
			if version <= 63 && method <= 99 {
				return true
			}
		case len(rest) >= 22 && rest[2] == 5 && rest[3] == 6:
			// Disk numbers: zero in every archive that is not split.
			if binary.LittleEndian.Uint32(rest[4:]) == 0 {
				return true
			}
		}
	}
}
