package evidence

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/hex"
	"errors"
	"io"
	"sort"
)

// How a PDF is checked, and why this way.
//
// A PDF reader does not read a file from top to bottom: it jumps to objects
// at the offsets the cross-reference table gives, and unpacks objects kept
// compressed inside "object streams". So a check that reads the file in order
// can be walked around: an object placed inside what looks like image data,
// or inside an unbalanced string, is invisible to it and visible to Acrobat.
// This checker therefore does not trust the file's own structure:
//
//   - it looks for the names that make a reader act (/JavaScript, /Launch,
//     /OpenAction...) in every byte of the file, strings and comments
//     included, and in the decompressed content of every stream but images;
//   - it finds every "N G obj" header wherever it is, so an object hidden in
//     another's data is read too, and every "stream" keyword, so compressed
//     content is never skipped because its dictionary was odd;
//   - it refuses what it cannot look inside (an object stream compressed in
//     a way it does not decode) rather than letting it through.
//
// The price is a rare false alarm, which the uploader can get past by saving
// a plain PDF or photographing the certificate, as the message says. Two
// choices keep it rare. The two-letter names /JS and /AA turn up by chance
// in binary data (in more than one 2 MB photo in a hundred), so in stream
// data and binary content only the longer names are looked for: /JS and /AA
// act only from within an object, and every object, and every object
// stream, is searched for them in full. And /OpenAction that only shows a
// page, which TCPDF and LaTeX write into ordinary documents, is allowed.

// Limits on the work one PDF may ask of the checker: a file within the size
// limit can still expand a thousandfold (a "zip bomb" of nested Flate
// streams) or nest without end; past these it is refused as too complex.
const (
	maxPDFDecoded = 50 << 20 // decompressed bytes, all streams together
	maxPDFStreams = 20_000
	maxPDFDepth   = 64 // nested arrays and dictionaries
	maxPDFFilters = 8  // filters applied to one stream
)

// activeNames are the names that make a reader run script, start a program,
// open or send something, or carry a file or media inside: none belongs in a
// certificate or a scan, and each has been how PDFs attack their readers.
// The value is how the refusal describes it. Links (/URI) are allowed: real
// certificates carry "verify this certificate" links, and a reader asks
// before following one.
var activeNames = map[string]string{
	"JavaScript":    "JavaScript",
	"JS":            "JavaScript",
	"OpenAction":    "an action that runs when it is opened",
	"AA":            "actions that run automatically",
	"Launch":        "a command that starts another program",
	"EmbeddedFile":  "an attached file",
	"EmbeddedFiles": "attached files",
	"RichMedia":     "embedded media",
	"Rendition":     "embedded media",
	"Movie":         "embedded media",
	"Sound":         "embedded media",
	"XFA":           "a dynamic XFA form",
	"SubmitForm":    "a form that sends data",
	"ImportData":    "a form that loads data",
	"GoToR":         "a link that opens another file",
	"GoToE":         "a link that opens another file",
}

var (
	errPDFBomb        = errors.New("decompressed content over the limit")
	errPDFUnsupported = errors.New("unsupported filter or parameters")
	errPDFTooDeep     = errors.New("nested too deeply")
	errPDFSyntax      = errors.New("syntax error")
)

// checkPDF refuses a PDF that is truncated, encrypted (its content could not
// be checked at all), too complex to check, or carries active content.
func checkPDF(data []byte) *Refusal {
	// A complete PDF ends with %%EOF; a truncated download does not, and
	// anything after it is not part of the document.
	end := bytes.LastIndex(data, []byte("%%EOF"))
	if end < 0 || len(data)-end > 1024 {
		return refuse(msgDamagedPDF)
	}
	for _, b := range data[end+5:] {
		if !isPDFSpace(b) {
			return refuse(msgDamagedPDF)
		}
	}
	c := &pdfChecker{data: data, work: 16*int64(len(data)) + 1<<16, objects: map[int][]any{}, openActions: map[int]bool{}}
	return c.check()
}

type pdfChecker struct {
	data    []byte
	work    int64 // bytes the parser may still read: bounds objects hidden in objects
	decoded int64 // bytes decompressed so far
	zr      io.ReadCloser
	// objects holds every definition found of each object number.
	objects map[int][]any
	// openActions are the objects /OpenAction refers to, checked once all
	// objects are known.
	openActions map[int]bool
}

type span struct{ start, end int }

type pdfStream struct {
	data span
	dict pdfDict // nil when no object header leads to it
}

func (c *pdfChecker) check() *Refusal {
	objects, dicts, r := c.findObjects()
	if r != nil {
		return r
	}
	streams, r := c.findStreams(dicts)
	if r != nil {
		return r
	}
	if r := c.scanFile(objects, streams); r != nil {
		return r
	}
	for _, s := range streams {
		if r := c.checkStream(s); r != nil {
			return r
		}
	}
	return c.resolveOpenActions()
}

// findObjects finds every "N G obj" header in the file, wherever it is, and
// reads the object after it. It returns the extent of each object (to be
// searched in full) and the dictionary found before each "stream" keyword,
// by the keyword's offset.
func (c *pdfChecker) findObjects() ([]span, map[int]pdfDict, *Refusal) {
	var objects []span
	dicts := map[int]pdfDict{}
	data := c.data
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("obj"))
		if j < 0 {
			break
		}
		k := i + j
		i = k + 3
		start, ok := objectHeader(data, k)
		if !ok {
			continue
		}
		l := pdfLexer{b: data, pos: k + 3}
		v, err := l.value(0)
		c.work -= int64(l.pos - (k + 3))
		switch {
		case errors.Is(err, errPDFTooDeep) || c.work < 0:
			return nil, nil, refuse(msgComplex)
		case err != nil:
			// Not an object this checker can read; a reader may still read
			// one here, so search up to its end in full anyway.
			e := bytes.Index(data[k:min(len(data), k+64<<10)], []byte("endobj"))
			if e < 0 {
				e = min(len(data), k+64<<10) - k
			}
			if c.work -= int64(e); c.work < 0 {
				return nil, nil, refuse(msgComplex)
			}
			objects = append(objects, span{start, k + e})
			continue
		}
		objects = append(objects, span{start, l.pos})
		if num, ok := readInt(bytes.Fields(data[start:k])[0]); ok {
			c.objects[num] = append(c.objects[num], v)
		}
		l.skipSpace()
		if d, ok := v.(pdfDict); ok && isStreamKeyword(data, l.pos) {
			dicts[l.pos] = d
		}
	}
	return objects, dicts, nil
}

// objectHeader reports whether the "obj" at k ends an object header
// ("12 0 obj"), and where the header starts.
func objectHeader(data []byte, k int) (int, bool) {
	if k+3 < len(data) && isPDFRegular(data[k+3]) {
		return 0, false
	}
	p := k
	for p > 0 && isPDFSpace(data[p-1]) {
		p--
	}
	n := p
	for p > 0 && isDigit(data[p-1]) {
		p--
	}
	if p == n || p == 0 || !isPDFSpace(data[p-1]) {
		return 0, false
	}
	for p > 0 && isPDFSpace(data[p-1]) {
		p--
	}
	n = p
	for p > 0 && isDigit(data[p-1]) {
		p--
	}
	if p == n || (p > 0 && isPDFRegular(data[p-1])) {
		return 0, false
	}
	return p, true
}

// isStreamKeyword reports a "stream" keyword at i: a whole word followed by
// an end of line, as the format requires.
func isStreamKeyword(data []byte, i int) bool {
	if !bytes.HasPrefix(data[i:], []byte("stream")) || i+6 >= len(data) {
		return false
	}
	if i > 0 && isPDFRegular(data[i-1]) {
		return false
	}
	return data[i+6] == '\r' || data[i+6] == '\n'
}

// findStreams finds every stream's data: from each "stream" keyword to the
// next "endstream". A reader given a /Length may stop earlier, never later,
// so nothing a reader treats as objects is taken for stream data here.
func (c *pdfChecker) findStreams(dicts map[int]pdfDict) ([]pdfStream, *Refusal) {
	var streams []pdfStream
	data := c.data
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("stream"))
		if j < 0 {
			break
		}
		k := i + j
		i = k + 6
		if !isStreamKeyword(data, k) {
			continue
		}
		if len(streams) == maxPDFStreams {
			return nil, refuse(msgComplex)
		}
		s := k + 6
		if data[s] == '\r' && s+1 < len(data) && data[s+1] == '\n' {
			s++
		}
		s++
		e := bytes.Index(data[s:], []byte("endstream"))
		if e < 0 {
			return nil, refuse(msgDamagedPDF)
		}
		if c.work -= int64(e); c.work < 0 {
			return nil, refuse(msgComplex)
		}
		e += s
		if e > s && data[e-1] == '\n' {
			e--
		}
		if e > s && data[e-1] == '\r' {
			e--
		}
		streams = append(streams, pdfStream{data: span{s, e}, dict: dicts[k]})
	}
	return streams, nil
}

// scanFile searches the raw file: every name outside stream data and in
// every object, and the long names inside stream data.
func (c *pdfChecker) scanFile(objects []span, streams []pdfStream) *Refusal {
	ranges := make([]span, len(streams))
	for i, s := range streams {
		ranges[i] = s.data
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].start < ranges[j].start })
	pos := 0
	for _, r := range ranges {
		if r.end <= pos {
			continue
		}
		if r.start > pos {
			if x := c.scanNames(c.data[pos:r.start], false); x != nil {
				return x
			}
			pos = r.start
		}
		if x := c.scanNames(c.data[pos:r.end], true); x != nil {
			return x
		}
		pos = r.end
	}
	if x := c.scanNames(c.data[pos:], false); x != nil {
		return x
	}
	for _, o := range objects {
		if x := c.scanNames(c.data[o.start:o.end], false); x != nil {
			return x
		}
	}
	return nil
}

// checkStream decompresses a stream and searches its content. Object
// streams must be read (a reader finds objects in them); images are not
// decompressed (a reader finds nothing but pixels in them, and a scanned
// page's lossless pixels would exhaust any sane limit); the rest are
// decompressed so a compression bomb is caught and names are searched.
func (c *pdfChecker) checkStream(s pdfStream) *Refusal {
	raw := c.data[s.data.start:s.data.end]
	d := s.dict
	objStm := d != nil && (d.has("N") && d.has("First") || d.isName("Type", "ObjStm"))
	if d != nil && !objStm && (d.isName("Subtype", "Image") || d.has("Width") && d.has("Height")) {
		return nil
	}
	var out []byte
	var err error
	if d == nil {
		// No dictionary this checker could read leads here, though a
		// reader's may: decompress what looks compressed.
		out = raw
		if looksZlib(raw) {
			out, err = c.inflate(raw)
			if c.decoded += int64(len(out)); c.decoded > maxPDFDecoded {
				err = errPDFBomb
			}
		}
	} else {
		out, err = c.decode(raw, d)
	}
	switch {
	case errors.Is(err, errPDFBomb):
		return refuse(msgComplex)
	case errors.Is(err, errPDFUnsupported) && objStm:
		return refuse(msgComplex)
	case err != nil && objStm:
		return refuse(msgDamagedPDF)
	case errors.Is(err, errPDFUnsupported):
		return nil // left compressed: its raw bytes were searched
	}
	// Damaged compressed data elsewhere is searched as far as it goes:
	// readers show such files, and the part that does decompress is all a
	// reader could act on.
	if r := c.scanNames(out, !objStm && !looksText(out)); r != nil || !objStm {
		return r
	}
	return c.indexObjectStream(out, d)
}

// indexObjectStream reads the objects in a decompressed object stream, so
// an /OpenAction that refers to one can be told apart.
func (c *pdfChecker) indexObjectStream(out []byte, d pdfDict) *Refusal {
	first, ok1 := d.int("First", -1)
	n, ok2 := d.int("N", -1)
	if !ok1 || !ok2 || first < 0 || first > len(out) {
		return nil // its objects stay unknown, and a reference to one is refused
	}
	header := pdfLexer{b: out[:first]}
	for range min(n, maxPDFStreams) {
		header.skipSpace()
		num, _ := readInt(header.regular())
		header.skipSpace()
		off, ok := readInt(header.regular())
		if !ok || off > len(out)-first {
			return nil
		}
		l := pdfLexer{b: out, pos: first + off}
		v, err := l.value(0)
		if c.work -= int64(l.pos - first - off); c.work < 0 || errors.Is(err, errPDFTooDeep) {
			return refuse(msgComplex)
		}
		if err == nil {
			c.objects[num] = append(c.objects[num], v)
		}
	}
	return nil
}

// onlyGoesToPage reports an /OpenAction value that only shows a page: a
// destination, or a GoTo action with no further action chained to it.
func onlyGoesToPage(v any) bool {
	switch v := v.(type) {
	case pdfArray:
		return true
	case pdfDict:
		return v.isName("S", "GoTo") && !v.has("Next")
	}
	return false
}

// resolveOpenActions refuses an /OpenAction that referred to anything but
// a destination, looking at every definition of the object (an updated
// file may define it more than once, and readers differ on which wins).
func (c *pdfChecker) resolveOpenActions() *Refusal {
	for num := range c.openActions {
		defs := c.objects[num]
		if len(defs) == 0 {
			return refuse(msgActive, activeNames["OpenAction"])
		}
		for _, v := range defs {
			if !onlyGoesToPage(v) {
				return refuse(msgActive, activeNames["OpenAction"])
			}
		}
	}
	return nil
}

// decode applies a stream's filters.
func (c *pdfChecker) decode(raw []byte, d pdfDict) ([]byte, error) {
	var filters []any
	switch f := d["Filter"].(type) {
	case nil:
		if d.has("Filter") {
			return nil, errPDFUnsupported
		}
	case pdfName:
		filters = []any{f}
	case pdfArray:
		filters = f
	default:
		return nil, errPDFUnsupported
	}
	if len(filters) > maxPDFFilters {
		return nil, errPDFUnsupported
	}
	var parms []any
	switch p := d["DecodeParms"].(type) {
	case pdfDict:
		parms = []any{p}
	case pdfArray:
		parms = p
	case nil:
	default:
		return nil, errPDFUnsupported
	}
	out := raw
	for i, f := range filters {
		name, ok := f.(pdfName)
		if !ok {
			return nil, errPDFUnsupported
		}
		var p pdfDict
		if i < len(parms) {
			switch v := parms[i].(type) {
			case pdfDict:
				p = v
			case pdfAtom:
				if v != "null" {
					return nil, errPDFUnsupported
				}
			default:
				return nil, errPDFUnsupported
			}
		}
		var err error
		switch name {
		case "FlateDecode", "Fl":
			if out, err = c.inflate(out); err == nil {
				out, err = unpredict(out, p)
			}
		case "ASCIIHexDecode", "AHx":
			out, err = decodeASCIIHex(out)
		case "ASCII85Decode", "A85":
			out, err = decodeASCII85(out)
		case "RunLengthDecode", "RL":
			out, err = c.decodeRunLength(out)
		default:
			// LZW, DCT, JPX, JBIG2, CCITT and Crypt: images, or too rare
			// in certificates to be worth a decoder here.
			return nil, errPDFUnsupported
		}
		// Counted even when damaged, so a run of broken streams cannot
		// each take the whole allowance.
		if c.decoded += int64(len(out)); c.decoded > maxPDFDecoded {
			return nil, errPDFBomb
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// inflate decompresses zlib data, never past what is left of the limit.
func (c *pdfChecker) inflate(in []byte) ([]byte, error) {
	var err error
	if c.zr == nil {
		c.zr, err = zlib.NewReader(bytes.NewReader(in))
	} else {
		err = c.zr.(zlib.Resetter).Reset(bytes.NewReader(in), nil)
	}
	if err != nil {
		return nil, err
	}
	left := maxPDFDecoded - c.decoded
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(c.zr, left+1))
	if n > left {
		return nil, errPDFBomb
	}
	return out.Bytes(), err // the caller counts what was decompressed
}

func looksZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0F == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// looksText reports content that is mostly text (page content, metadata,
// objects) rather than binary (fonts, colour profiles, cross-reference
// tables), where short names turn up by chance.
func looksText(b []byte) bool {
	odd := 0
	for _, x := range b {
		if (x < 0x20 && !isPDFSpace(x)) || x > 0x7E {
			odd++
		}
	}
	return odd*10 <= len(b)
}

// unpredict undoes a Flate stream's PNG or TIFF predictor, without which an
// object stream's bytes are differences, not text.
func unpredict(in []byte, p pdfDict) ([]byte, error) {
	predictor, ok := p.int("Predictor", 1)
	if !ok {
		return nil, errPDFUnsupported
	}
	if predictor == 1 {
		return in, nil
	}
	colors, ok1 := p.int("Colors", 1)
	bpc, ok2 := p.int("BitsPerComponent", 8)
	columns, ok3 := p.int("Columns", 1)
	if !ok1 || !ok2 || !ok3 || colors < 1 || colors > 32 || columns < 1 || columns > 1<<20 ||
		(bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) {
		return nil, errPDFUnsupported
	}
	bpp := (colors*bpc + 7) / 8
	rowLen := (colors*bpc*columns + 7) / 8
	switch {
	case predictor == 2:
		if bpc != 8 {
			return nil, errPDFUnsupported
		}
		out := bytes.Clone(in)
		for r := 0; r < len(out); r += rowLen {
			row := out[r:min(len(out), r+rowLen)]
			for i := bpp; i < len(row); i++ {
				row[i] += row[i-bpp]
			}
		}
		return out, nil
	case predictor >= 10 && predictor <= 15:
		out := make([]byte, 0, len(in))
		prev := make([]byte, min(rowLen, len(in))) // a row never needs more than the data
		for r := 0; r < len(in); r += rowLen + 1 {
			tag := in[r]
			row := bytes.Clone(in[r+1 : min(len(in), r+1+rowLen)])
			for i := range row {
				var left, upLeft byte
				if i >= bpp {
					left, upLeft = row[i-bpp], prev[i-bpp]
				}
				up := prev[i]
				switch tag {
				case 0:
				case 1:
					row[i] += left
				case 2:
					row[i] += up
				case 3:
					row[i] += byte((int(left) + int(up)) / 2)
				case 4:
					row[i] += paeth(left, up, upLeft)
				default:
					return nil, errPDFSyntax
				}
			}
			copy(prev, row)
			out = append(out, row...)
		}
		return out, nil
	}
	return nil, errPDFUnsupported
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func decodeASCIIHex(in []byte) ([]byte, error) {
	digits := make([]byte, 0, len(in))
	for _, b := range in {
		switch {
		case b == '>':
			if len(digits)%2 == 1 {
				digits = append(digits, '0')
			}
			out := make([]byte, len(digits)/2)
			_, err := hex.Decode(out, digits)
			return out, err
		case isPDFSpace(b):
		case isHexDigit(b):
			digits = append(digits, b)
		default:
			return nil, errPDFSyntax
		}
	}
	return nil, errPDFSyntax
}

func decodeASCII85(in []byte) ([]byte, error) {
	in = bytes.TrimPrefix(bytes.TrimLeft(in, " \t\r\n\f\x00"), []byte("<~"))
	end := bytes.Index(in, []byte("~>"))
	if end < 0 {
		return nil, errPDFSyntax
	}
	out := make([]byte, 4*(end+4)) // 'z' is four bytes from one
	n, _, err := ascii85.Decode(out, in[:end], true)
	return out[:n], err
}

func (c *pdfChecker) decodeRunLength(in []byte) ([]byte, error) {
	var out []byte
	left := maxPDFDecoded - c.decoded
	for i := 0; i < len(in); {
		n := int(in[i])
		i++
		switch {
		case n == 128:
			return out, nil
		case n < 128:
			if i+n+1 > len(in) {
				return out, errPDFSyntax
			}
			out = append(out, in[i:i+n+1]...)
			i += n + 1
		default:
			if i >= len(in) {
				return out, errPDFSyntax
			}
			out = append(out, bytes.Repeat(in[i:i+1], 257-n)...)
			i++
		}
		if int64(len(out)) > left {
			return nil, errPDFBomb
		}
	}
	return out, nil
}

// scanNames searches every PDF name in b (a slash and the regular
// characters after it, with #xx escapes decoded, so /J#61vaScript is
// /JavaScript) for active content and encryption. longOnly skips names of
// two characters, which random binary data holds by chance.
//
// /OpenAction is allowed when it only shows a page ("open at page 1, fit to
// width"), which TCPDF (behind many e-learning certificates) and LaTeX
// write as a matter of course; any other action there is refused, and so is
// a reference to an object this checker cannot find.
func (c *pdfChecker) scanNames(b []byte, longOnly bool) *Refusal {
	var buf [64]byte
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '/')
		if j < 0 {
			return nil
		}
		i += j + 1
		k := i
		for k < len(b) && isPDFRegular(b[k]) {
			k++
		}
		raw := b[i:k]
		i = k
		if len(raw) == 0 || len(raw) > len(buf) {
			continue
		}
		name := raw
		if bytes.IndexByte(raw, '#') >= 0 {
			name = decodeNameEscapes(buf[:0], raw)
		}
		if longOnly && len(name) <= 2 {
			continue
		}
		if string(name) == "Encrypt" {
			return refuse(msgEncrypted)
		}
		if string(name) == "OpenAction" {
			l := pdfLexer{b: b, pos: i}
			l.skipSpace()
			if num, ok := l.reference(); ok {
				c.openActions[num] = true
				continue
			}
			v, err := l.value(0)
			if c.work -= int64(l.pos - i); c.work < 0 || errors.Is(err, errPDFTooDeep) {
				return refuse(msgComplex)
			}
			if err == nil && onlyGoesToPage(v) {
				continue
			}
		}
		if what, ok := activeNames[string(name)]; ok {
			return refuse(msgActive, what)
		}
	}
}

func decodeNameEscapes(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) && isHexDigit(raw[i+1]) && isHexDigit(raw[i+2]) {
			dst = append(dst, unhex(raw[i+1])<<4|unhex(raw[i+2]))
			i += 2
			continue
		}
		dst = append(dst, raw[i])
	}
	return dst
}

// Values read from a PDF: only what classifying a stream needs.
type (
	pdfDict  map[string]any
	pdfArray []any
	pdfName  string
	pdfAtom  string // number, keyword, string or reference
)

func (d pdfDict) has(key string) bool { _, ok := d[key]; return ok }

func (d pdfDict) isName(key, name string) bool {
	n, ok := d[key].(pdfName)
	return ok && string(n) == name
}

// int reads a direct non-negative integer, or def when key is absent.
func (d pdfDict) int(key string, def int) (int, bool) {
	v, ok := d[key]
	if !ok {
		return def, true
	}
	a, ok := v.(pdfAtom)
	if !ok {
		return 0, false
	}
	return readInt([]byte(a))
}

// readInt reads a non-negative integer of up to nine digits.
func readInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, ch := range b {
		if !isDigit(ch) {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

type pdfLexer struct {
	b   []byte
	pos int
}

func (l *pdfLexer) skipSpace() {
	for l.pos < len(l.b) {
		switch ch := l.b[l.pos]; {
		case isPDFSpace(ch):
			l.pos++
		case ch == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

func (l *pdfLexer) regular() []byte {
	s := l.pos
	for l.pos < len(l.b) && isPDFRegular(l.b[l.pos]) {
		l.pos++
	}
	return l.b[s:l.pos]
}

// value reads one object. References ("5 0 R") come back as a pdfAtom, as
// any value this checker does not need to tell apart.
func (l *pdfLexer) value(depth int) (any, error) {
	if depth > maxPDFDepth {
		return nil, errPDFTooDeep
	}
	l.skipSpace()
	if l.pos >= len(l.b) {
		return nil, errPDFSyntax
	}
	switch ch := l.b[l.pos]; ch {
	case '/':
		l.pos++
		raw := l.regular()
		if bytes.IndexByte(raw, '#') >= 0 {
			raw = decodeNameEscapes(nil, raw)
		}
		return pdfName(raw), nil
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return l.dict(depth)
		}
		e := bytes.IndexByte(l.b[l.pos:], '>')
		if e < 0 {
			l.pos = len(l.b) // read to the end, and charged for it
			return nil, errPDFSyntax
		}
		l.pos += e + 1
		return pdfAtom("<>"), nil
	case '(':
		return l.literal()
	case '[':
		l.pos++
		var a pdfArray
		for {
			l.skipSpace()
			if l.pos >= len(l.b) {
				return nil, errPDFSyntax
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return a, nil
			}
			v, err := l.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	}
	word := l.regular()
	if len(word) == 0 {
		return nil, errPDFSyntax
	}
	if isInteger(word) {
		// "5 0 R" is one value: a reference.
		save := l.pos
		l.skipSpace()
		if g := l.regular(); isInteger(g) {
			l.skipSpace()
			if r := l.regular(); string(r) == "R" {
				return pdfAtom("R"), nil
			}
		}
		l.pos = save
	}
	return pdfAtom(word), nil
}

// reference reads "12 0 R", returning the object number, or moves nowhere.
func (l *pdfLexer) reference() (int, bool) {
	save := l.pos
	num, ok := readInt(l.regular())
	l.skipSpace()
	_, ok2 := readInt(l.regular())
	l.skipSpace()
	if ok && ok2 && string(l.regular()) == "R" {
		return num, true
	}
	l.pos = save
	return 0, false
}

func (l *pdfLexer) dict(depth int) (any, error) {
	d := pdfDict{}
	for {
		l.skipSpace()
		if l.pos >= len(l.b) {
			return nil, errPDFSyntax
		}
		if l.b[l.pos] == '>' {
			if l.pos+1 < len(l.b) && l.b[l.pos+1] == '>' {
				l.pos += 2
				return d, nil
			}
			return nil, errPDFSyntax
		}
		if l.b[l.pos] != '/' {
			return nil, errPDFSyntax
		}
		k, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d[string(k.(pdfName))] = v
	}
}

func (l *pdfLexer) literal() (any, error) {
	nest := 0
	for l.pos < len(l.b) {
		ch := l.b[l.pos]
		l.pos++
		switch ch {
		case '\\':
			l.pos++
		case '(':
			nest++
		case ')':
			if nest--; nest == 0 {
				return pdfAtom("()"), nil
			}
		}
	}
	return nil, errPDFSyntax
}

func isPDFSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == '\f' || b == 0
}

func isPDFRegular(b byte) bool {
	switch b {
	case ' ', '\n', '\r', '\t', '\f', 0, '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return false
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isInteger(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, ch := range b {
		if !isDigit(ch) {
			return false
		}
	}
	return true
}

func isHexDigit(b byte) bool {
	return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func unhex(b byte) byte {
	switch {
	case isDigit(b):
		return b - '0'
	case b >= 'a':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}
