// Package touchbase holds the domain types of touchbase and the interfaces
// between its parts. It imports only the standard library.
package touchbase

import (
	"errors"
	"fmt"
)

// Error codes. server/ maps each to one HTTP status; everything else is
// EINTERNAL.
const (
	EINVALID      = "invalid"      // the request is malformed or a field is wrong
	ENOTFOUND     = "not_found"    // the thing asked for does not exist (in this workspace)
	ECONFLICT     = "conflict"     // the change clashes with existing state (a duplicate name)
	EUNAUTHORIZED = "unauthorized" // no credentials, or wrong or revoked ones
	EFORBIDDEN    = "forbidden"    // credentials are fine but their role may not do this
	ETOOLARGE     = "too_large"    // a body or event is over its size limit
	ERATELIMIT    = "rate_limited" // too many events for this write key; retry later
	EUNAVAILABLE  = "unavailable"  // shutting down or overloaded; retry later
	ENOROOM       = "no_room"      // the disk (or the database's) is full: nothing was stored; retry later
	EINTERNAL     = "internal"     // a bug or a failure of the machine
	EUNSUPPORTED  = "unsupported"  // a media type or encoding we do not speak
	EGONE         = "gone"         // the thing existed and was erased
	ETIMEOUT      = "timeout"      // the client did not send its request in time
)

// Error is the one error type whose message is meant for the user. Fields
// names each offending field, for batches with the index of the event.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

// FieldError says what is wrong with one field. Index is the position of the
// event in a batch, or -1 when the error is not about a batch member.
type FieldError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("touchbase error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and
// "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
