package evidence_test

// Builders for the files the tests upload: small but real PDFs, PNGs and
// JPEGs, made in code so every hostile variant says how it was made.

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// pdfFile writes a PDF whose object n+1 is objects[n], with a correct
// cross-reference table and a trailer naming object 1 as the catalog plus
// trailerExtra.
func pdfFile(trailerExtra string, objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailerExtra, xref)
	return b.Bytes()
}

// pdfStream writes a stream object's body.
func pdfStream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

const (
	pdfPages   = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
	pdfPage    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
	pdfFont    = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	pdfText    = "BT /F1 14 Tf 20 100 Td (Safeguarding children level 2: passed) Tj ET"
	pdfCatalog = "<< /Type /Catalog /Pages 2 0 R >>"
)

// certificatePDF is a plain one-page certificate.
func certificatePDF() []byte {
	return pdfFile("", pdfCatalog, pdfPages, pdfPage, pdfStream("", []byte(pdfText)), pdfFont)
}

// certificatePDFWith is the certificate with the catalog replaced and more
// objects (numbered from 6) added.
func certificatePDFWith(catalog string, more ...string) []byte {
	objects := append([]string{catalog, pdfPages, pdfPage, pdfStream("", []byte(pdfText)), pdfFont}, more...)
	return pdfFile("", objects...)
}

// objStmPDF writes a PDF 1.5 whose catalog (object 1) lives inside a
// Flate-compressed object stream, reached through a cross-reference stream:
// the layout modern writers use, and the place a checker that only reads the
// raw file never looks. predictor adds a PNG "Up" predictor, as some writers
// use for object streams.
func objStmPDF(catalog string, predictor bool) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	plain := []string{pdfPages, pdfPage, pdfStream("/Filter /FlateDecode", deflate([]byte(pdfText))), pdfFont} // objects 2-5
	offsets := map[int]int{}
	for i, o := range plain {
		offsets[i+2] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+2, o)
	}
	header := "1 0 "
	content := []byte(header + catalog + "\n")
	dict := fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter /FlateDecode", len(header))
	if predictor {
		const columns = 5
		var rows []byte
		prev := make([]byte, columns)
		for i := 0; i < len(content); i += columns {
			row := make([]byte, columns)
			copy(row, content[i:])
			rows = append(rows, 2) // Up: each byte minus the byte above
			for j := range row {
				rows = append(rows, row[j]-prev[j])
			}
			prev = row
		}
		content = rows
		dict += fmt.Sprintf(" /DecodeParms << /Predictor 12 /Columns %d >>", columns)
	}
	offsets[6] = b.Len()
	fmt.Fprintf(&b, "6 0 obj\n%s\nendobj\n", pdfStream(dict, deflate(content)))
	xref := b.Len()
	var entries []byte
	entry := func(typ byte, a uint32, c uint16) {
		entries = append(entries, typ)
		entries = binary.BigEndian.AppendUint32(entries, a)
		entries = binary.BigEndian.AppendUint16(entries, c)
	}
	entry(0, 0, 65535)
	entry(2, 6, 0) // object 1: first in object stream 6
	for n := 2; n <= 6; n++ {
		entry(1, uint32(offsets[n]), 0)
	}
	entry(1, uint32(xref), 0)
	fmt.Fprintf(&b, "7 0 obj\n%s\nendobj\n", pdfStream("/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode", deflate(entries)))
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// testPicture has a red left half and a blue right half, so a turned copy
// shows which way it was turned.
func testPicture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{R: 220, G: 20, B: 20, A: 255}
			if x >= w/2 {
				c = color.NRGBA{R: 20, G: 20, B: 220, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func pngFile(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testPicture(32, 16)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegFile(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testPicture(32, 16), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// withPNGChunk inserts a chunk just before IEND.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	iend := len(p) - 12
	out := append([]byte{}, p[:iend]...)
	out = append(out, pngChunk(typ, data)...)
	return append(out, p[iend:]...)
}

// pixelFloodPNG declares w×h pixels in a file of a few dozen bytes.
func pixelFloodPNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", deflate([]byte{0, 0, 0, 0}))...)
	return append(out, pngChunk("IEND", nil)...)
}

// pixelFloodJPEG is a real JPEG whose frame header claims w×h pixels.
func pixelFloodJPEG(t testing.TB, w, h uint16) []byte {
	j := append([]byte{}, jpegFile(t)...)
	i := bytes.Index(j, []byte{0xFF, 0xC0}) // baseline frame header
	if i < 0 {
		t.Fatal("no SOF0 in test JPEG")
	}
	binary.BigEndian.PutUint16(j[i+5:], h)
	binary.BigEndian.PutUint16(j[i+7:], w)
	return j
}

// exifSegment is an APP1 EXIF block holding an orientation and a GPS
// position, as a phone writes.
func exifSegment(orientation uint16) []byte {
	var tiff []byte
	tiff = append(tiff, "MM\x00*"...)
	tiff = binary.BigEndian.AppendUint32(tiff, 8)
	tiff = binary.BigEndian.AppendUint16(tiff, 2) // two entries
	// Orientation, SHORT, 1 value.
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112)
	tiff = binary.BigEndian.AppendUint16(tiff, 3)
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, orientation)
	tiff = binary.BigEndian.AppendUint16(tiff, 0)
	// GPSInfo IFD pointer, LONG, to the GPS directory after this one.
	tiff = binary.BigEndian.AppendUint16(tiff, 0x8825)
	tiff = binary.BigEndian.AppendUint16(tiff, 4)
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint32(tiff, 8+2+2*12+4)
	tiff = binary.BigEndian.AppendUint32(tiff, 0) // no next IFD
	// GPS directory: GPSLatitudeRef "N", with a marker the test looks for.
	tiff = binary.BigEndian.AppendUint16(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0001)
	tiff = binary.BigEndian.AppendUint16(tiff, 2)
	tiff = binary.BigEndian.AppendUint32(tiff, 2)
	tiff = append(tiff, 'N', 0, 0, 0)
	tiff = binary.BigEndian.AppendUint32(tiff, 0)
	tiff = append(tiff, "GPS 51.5007N 0.1246W"...)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	return append(out, seg...)
}

// withEXIF inserts an EXIF segment straight after the start of image.
func withEXIF(j []byte, orientation uint16) []byte {
	out := append([]byte{}, j[:2]...)
	out = append(out, exifSegment(orientation)...)
	return append(out, j[2:]...)
}

func zipFile(t testing.TB, name, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte(content))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// a85 encodes for the ASCII85Decode filter.
func a85(b []byte) []byte {
	out := make([]byte, ascii85.MaxEncodedLen(len(b)))
	return append(out[:ascii85.Encode(out, b)], "~>"...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func repeat(s string, n int) string { return strings.Repeat(s, n) }
