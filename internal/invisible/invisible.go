// Package invisible recognises the characters that make text display
// differently from what it is: the "trojan source" bidirectional controls,
// which can make a file name ending ".exe" read as ".pdf", and the
// zero-width characters that make two staff numbers or names look
// identical. Every place that takes text from people or files refuses them
// alike.
package invisible

// Char reports whether r is such a character. Zero-width joiners are left
// alone: some scripts need them.
func Char(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	case r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	case r == '\u200b', r >= '\u2060' && r <= '\u2064', r == '\ufeff':
		return true
	}
	return false
}
