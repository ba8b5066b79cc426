package rostercsv

import (
	"errors"
	"io"
)

// errTooBig is returned by capReader once the file passes Options.MaxBytes.
var errTooBig = errors.New("roster file larger than the limit")

// capReader stops the upload at max bytes. LimitReader alone would end the
// file silently and we would import its first part as if it were whole; this
// reads one byte more so that a file over the limit is refused instead.
type capReader struct {
	r    io.Reader // an io.LimitReader of max+1 bytes
	max  int64
	n    int64
	over bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errTooBig
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return n, errTooBig
	}
	return n, err
}

// maxRecordBytes is where guard cuts a record short. A record the row rules
// could accept (at most maxRecordChars characters) takes at most four bytes
// a character plus quoting, about 60,000 bytes, so an acceptable record is
// never cut and the row rules can give the precise message.
const maxRecordBytes = 64 << 10

// scanState follows encoding/csv's reading of quotes (LazyQuotes off), byte
// by byte, so guard knows where csv will end each record.
type scanState uint8

const (
	atRecordStart scanState = iota
	atFieldStart
	inUnquoted
	inQuoted
	afterQuote   // a quote inside a quoted value: it closes the value or is the first of a doubled quote
	afterQuoteCR // `"` then CR: fine only if LF follows
	inBadLine    // csv reports an error for this line and carries on at the next one
)

// guard sits between the upload and encoding/csv. csv holds a whole record
// in memory before returning it, so one enormous line, or a stray quote that
// is never closed, would make it buffer the whole file. guard cuts any
// record longer than limit bytes short with a well-formed ending and throws
// the rest of it away, remembering which record it cut. It keeps one line
// break for every line break in the file, so the line numbers csv reports
// still match the file the person has open.
type guard struct {
	src   io.Reader
	limit int
	in    []byte
	out   []byte
	outAt int
	err   error

	state    scanState
	line     int // line of the byte being scanned, from 1
	recStart int // line the current record started on
	recBytes int
	cutting  bool // throwing away the rest of a record that was cut short
	owedNL   bool // the line break written when cutting stands in for the next real one
	lastByte byte

	cut map[int]bool // start lines of records that were cut short
	// unclosedFrom and unclosedTo are the lines of the last record when the
	// file ends inside a quoted value: everything after a stray quote.
	unclosedFrom, unclosedTo int
}

// newGuard cuts records longer than limit bytes. limit must be at least 2,
// so that a cut record is never just a CR, which csv would read as a blank
// line.
func newGuard(src io.Reader, limit int) *guard {
	return &guard{src: src, limit: limit, in: make([]byte, 32<<10), line: 1}
}

func (g *guard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for g.outAt == len(g.out) {
		if g.err != nil {
			return 0, g.err
		}
		n, err := g.src.Read(g.in)
		g.out, g.outAt = g.out[:0], 0
		g.scan(g.in[:n])
		if err != nil {
			if err == io.EOF {
				g.finish()
			}
			g.err = err // kept: bufio forgets an error once reported, and we must not read on
		} else if n == 0 {
			return 0, nil
		}
	}
	n := copy(p, g.out[g.outAt:])
	g.outAt += n
	return n, nil
}

func (g *guard) scan(in []byte) {
	for _, b := range in {
		if g.state == atRecordStart && b != '\n' && !g.cutting {
			g.recStart, g.recBytes = g.line, 0
		}
		prev := g.state
		end := g.step(b)
		if b == '\n' {
			g.line++
		}
		g.lastByte = b
		if g.cutting {
			if b == '\n' {
				if g.owedNL {
					g.owedNL = false
				} else {
					g.out = append(g.out, '\n')
				}
			}
			if end {
				g.cutting = false
			}
			continue
		}
		g.recBytes++
		if g.recBytes <= g.limit || end {
			g.out = append(g.out, b)
			continue
		}
		g.cutting = true
		if g.cut == nil {
			g.cut = make(map[int]bool)
		}
		g.cut[g.recStart] = true
		if prev == inQuoted {
			g.out = append(g.out, '"')
		}
		g.out = append(g.out, '\n')
		g.owedNL = b != '\n'
	}
}

// step advances the quote state by one byte and reports whether the byte
// ends a record (or an empty line) as csv sees it.
func (g *guard) step(b byte) bool {
	switch g.state {
	case atRecordStart, atFieldStart:
		switch b {
		case '"':
			g.state = inQuoted
		case ',':
			g.state = atFieldStart
		case '\n':
			g.state = atRecordStart
			return true
		default:
			g.state = inUnquoted
		}
	case inUnquoted:
		switch b {
		case ',':
			g.state = atFieldStart
		case '\n':
			g.state = atRecordStart
			return true
		case '"':
			g.state = inBadLine
		}
	case inQuoted:
		if b == '"' {
			g.state = afterQuote
		}
	case afterQuote:
		switch b {
		case '"':
			g.state = inQuoted
		case ',':
			g.state = atFieldStart
		case '\n':
			g.state = atRecordStart
			return true
		case '\r':
			g.state = afterQuoteCR
		default:
			g.state = inBadLine
		}
	case afterQuoteCR:
		if b == '\n' {
			g.state = atRecordStart
			return true
		}
		g.state = inBadLine
	case inBadLine:
		if b == '\n' {
			g.state = atRecordStart
			return true
		}
	}
	return false
}

func (g *guard) finish() {
	if g.state != inQuoted {
		return
	}
	g.unclosedFrom, g.unclosedTo = g.recStart, g.line
	if g.lastByte == '\n' {
		g.unclosedTo--
	}
}
