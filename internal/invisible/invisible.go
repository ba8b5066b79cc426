// Package invisible recognises the characters that make text display
// differently from what it is: the "trojan source" bidirectional controls,
// which can make a file name ending ".exe" read as ".pdf", and the
// zero-width characters that make two staff numbers or names look
// identical. Every place that takes text from people or files refuses them
// alike.
package invisible

import "unicode/utf8"

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

// Hides reports whether text people typed holds characters that would hide
// what it says: these, controls other than line breaks and tabs, and bytes
// that are not UTF-8.
func Hides(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || Char(r) || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			return true
		}
	}
	return false
}
