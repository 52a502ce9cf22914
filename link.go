package touchbase

import "strings"

// WebLink returns s, trimmed of surrounding spaces, when it is an absolute
// http or https URL with a host, and "" otherwise. It is the one check a
// link passes before touchbase keeps it where the console, the API and
// recommendations show it as a link (a product's url and image_url): a
// javascript:, data:, vbscript: or file: URL, a relative path, or text
// that is no URL at all is dropped, however the event or file that carried
// it is kept. Control characters, spaces and backslashes inside the URL
// drop it too: browsers skip or reinterpret them, which is how a link that
// looks like http hides another scheme or host.
//
// It allocates nothing: it runs on the ingestion path for every product
// an event describes.
func WebLink(s string) string {
	s = strings.TrimSpace(s)
	var rest string
	switch {
	case hasPrefixFold(s, "https://"):
		rest = s[len("https://"):]
	case hasPrefixFold(s, "http://"):
		rest = s[len("http://"):]
	default:
		return ""
	}
	if rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' || rest[0] == '@' || rest[0] == ':' {
		return "" // no host
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return s
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
