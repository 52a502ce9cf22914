package engine

import (
	"math"
	"slices"
	"strconv"
)

// Every event brings its customer's profile, whose traits are compared,
// encoded, with the ones the index holds. encoding/json's Marshal of a
// map costs reflection, a sort and a dozen allocations each time;
// appendTraits writes the common case (scalar values, plain ASCII
// strings) into a reused buffer with the same bytes Marshal would write,
// so that an unchanged profile still compares equal to what the store
// wrote. Anything else is left to Marshal.

// appendTraits appends m as encoding/json.Marshal encodes it; ok is false
// (and dst unspecified) when m holds what it does not encode itself.
// keys is scratch space for the sorted keys.
func appendTraits(dst []byte, m map[string]any, keys []string) (out []byte, ks []string, ok bool) {
	keys = keys[:0]
	for k := range m {
		if !plainASCII(k) {
			return dst, keys, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // Marshal's order: by bytes
	dst = append(dst, '{')
	for n, k := range keys {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
		switch v := m[k].(type) {
		case nil:
			dst = append(dst, "null"...)
		case bool:
			dst = strconv.AppendBool(dst, v)
		case string:
			if !plainASCII(v) {
				return dst, keys, false
			}
			dst = append(dst, '"')
			dst = append(dst, v...)
			dst = append(dst, '"')
		case float64:
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return dst, keys, false // Marshal fails
			}
			dst = appendFloat(dst, v)
		default:
			return dst, keys, false
		}
	}
	return append(dst, '}'), keys, true
}

// plainASCII reports whether s is printable ASCII that encoding/json
// writes as it is: no quote, backslash, nor the HTML characters it
// escapes.
func plainASCII(s string) bool {
	for k := 0; k < len(s); k++ {
		switch c := s[k]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendFloat is encoding/json's encoding of a float64: as ES6 converts a
// number to a string.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
