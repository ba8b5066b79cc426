package invisible

import "testing"

func TestChar(t *testing.T) {
	for _, r := range []rune{'\u202e', '\u2066', '\u200f', '\u061c', '\u200b', '\ufeff', '\u2060'} {
		if !Char(r) {
			t.Errorf("%U should be refused", r)
		}
	}
	for _, r := range []rune{'a', ' ', 'é', '\u200d', '\u0645', '-'} {
		if Char(r) {
			t.Errorf("%U should be allowed", r)
		}
	}
}
