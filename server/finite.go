package server

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// JSON has no NaN or infinity, and encoding/json fails on them only after
// huma has sent the status: the client gets a 200 with a broken body. The
// bounds where numbers enter (touchbase.MaxNumber) keep every stored value
// and sum finite; this is the guard at the edge for whatever slips past
// them (data stored before those bounds, a bug in a computation): the
// response becomes an internal error whose log line names the value.

// maxFiniteDepth bounds the walk; responses nest a few levels.
const maxFiniteDepth = 32

// checkFinite returns an error naming the first NaN or infinite float in v
// (an operation's output), or nil.
func checkFinite(v any) error {
	if path, f, ok := nonFinite(reflect.Indirect(reflect.ValueOf(v)), "", 0); ok {
		return fmt.Errorf("the response holds %v at %s, which JSON cannot hold", f, strings.TrimPrefix(path, "."))
	}
	return nil
}

// nonFinite walks v as encoding/json would and returns the path of its
// first NaN or infinite float.
func nonFinite(v reflect.Value, path string, depth int) (string, float64, bool) {
	if depth > maxFiniteDepth {
		return "", 0, false
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return path, f, true
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), path, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case name == "" && (f.Anonymous || depth == 0 && f.Name == "Body"):
				// Embedded fields are the parent's; huma sends an
				// output's Body as the body.
			case name == "":
				name = "." + f.Name
			default:
				name = "." + name
			}
			if p, x, ok := nonFinite(v.Field(i), path+name, depth+1); ok {
				return p, x, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", 0, false // bytes and raw JSON hold no floats
		}
		for i := range v.Len() {
			if p, x, ok := nonFinite(v.Index(i), path+"["+strconv.Itoa(i)+"]", depth+1); ok {
				return p, x, true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p, x, ok := nonFinite(it.Value(), path+"."+fmt.Sprint(it.Key().Interface()), depth+1); ok {
				return p, x, true
			}
		}
	}
	return "", 0, false
}
