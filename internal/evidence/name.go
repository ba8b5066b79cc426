package evidence

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/invisible"
)

// maxNameBytes is the longest name most file systems store; a longer one is
// cut or refused when a reviewer saves the download.
const maxNameBytes = 255

// Messages about file names.
const (
	msgNameUnreadable = "The file name contains characters that could not be read. Rename the file and upload it again"
	msgNameEmpty      = "The file name must not be empty. Rename the file and upload it again"
	msgNameTooLong    = "The file name must be 255 characters or fewer. Rename the file and upload it again"
	msgNameSeparator  = "The file name must not contain /, \\ or :. Rename the file and upload it again"
	msgNameControl    = "The file name must not contain line breaks, tabs or other hidden control characters. Rename the file and upload it again"
	msgNameHidden     = "The file name contains hidden right-to-left or formatting characters. Rename the file by typing the name again"
	msgNameDot        = "The file name must not start with a full stop. Rename the file and upload it again"
	msgNameDevice     = "The file name must not be a name Windows reserves for devices, such as CON, PRN, AUX, NUL, COM1 or LPT1. Rename the file and upload it again"
)

// DisplayName is the name shown in the portal and offered when a reviewer
// downloads the file. The file is stored under a random ID, never this name,
// so the name can never choose where anything is written; what is refused
// here is what would mislead or hurt the reviewer who saves it:
//   - path separators and ".." would turn "save" into "save elsewhere" in a
//     careless client, and ":" names a drive or an NTFS alternate stream;
//   - control characters can split a log line or a Content-Disposition
//     header, and NUL ends the name early in C code ("a.pdf\x00.html");
//   - right-to-left and other invisible formatting characters make
//     "training\u202Efdp.exe" display as "trainingexe.pdf";
//   - a leading dot hides the file once saved, and Windows device names
//     (CON, NUL, COM1...) open a device instead of a file, whatever the
//     extension.
//
// Nothing is silently removed: a changed name would no longer match what the
// uploader sees on their own computer. Surrounding spaces are trimmed, and
// the extension is kept as given (the stored content type, not the name,
// decides how the file is served).
func DisplayName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", refuse(msgNameUnreadable)
	}
	name = strings.TrimFunc(name, func(r rune) bool { return unicode.IsSpace(r) && !unicode.IsControl(r) })
	switch {
	case name == "":
		return "", refuse(msgNameEmpty)
	case len(name) > maxNameBytes:
		return "", refuse(msgNameTooLong)
	}
	for _, r := range name {
		switch {
		case r == '/', r == '\\', r == ':':
			return "", refuse(msgNameSeparator)
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "", refuse(msgNameControl)
		case invisible.Char(r):
			return "", refuse(msgNameHidden)
		}
	}
	if strings.HasPrefix(name, ".") { // also "." and ".."
		return "", refuse(msgNameDot)
	}
	if isWindowsDevice(name) {
		return "", refuse(msgNameDevice)
	}
	return name, nil
}

// windowsDevices are the names Windows opens as devices. It ignores what
// follows the first dot and trailing spaces, so "nul .txt.pdf" is NUL too.
var windowsDevices = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM¹": true, "COM²": true, "COM³": true, "LPT¹": true, "LPT²": true, "LPT³": true,
}

func init() {
	for d := '0'; d <= '9'; d++ {
		windowsDevices["COM"+string(d)] = true
		windowsDevices["LPT"+string(d)] = true
	}
}

func isWindowsDevice(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	return windowsDevices[strings.ToUpper(strings.TrimRight(base, " "))]
}
