// Package strictyaml reads the portal's configuration files (requirements,
// incident rules, bank holidays) strictly: an unknown key is an error, never
// a silent default, and a file holding a second document is refused rather
// than leaving an operator wondering why their edits have no effect.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Decode reads data, the contents of a file of what (e.g. "bank holidays"),
// into v.
func Decode(data []byte, what string, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("parse %s: the file is empty", what)
		}
		return fmt.Errorf("parse %s: %w", what, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse %s: the file must hold one YAML document", what)
	}
	return nil
}
