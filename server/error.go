package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	touchbase.EINVALID:      http.StatusBadRequest,
	touchbase.EUNAUTHORIZED: http.StatusUnauthorized,
	touchbase.EFORBIDDEN:    http.StatusForbidden,
	touchbase.ENOTFOUND:     http.StatusNotFound,
	touchbase.ECONFLICT:     http.StatusConflict,
	touchbase.EGONE:         http.StatusGone,
	touchbase.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	touchbase.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	touchbase.ERATELIMIT:    http.StatusTooManyRequests,
	touchbase.EUNAVAILABLE:  http.StatusServiceUnavailable,
	touchbase.ETIMEOUT:      http.StatusRequestTimeout,
	touchbase.ENOROOM:       http.StatusServiceUnavailable,
	touchbase.EINTERNAL:     http.StatusInternalServerError,
}

// codeOf maps a status the server did not choose itself (huma's validation,
// the mux's 405) back to an error code.
func codeOf(status int) string {
	for code, st := range statusOf {
		if st == status && code != touchbase.EINTERNAL && code != touchbase.ENOROOM {
			return code
		}
	}
	switch {
	case status == http.StatusUnprocessableEntity:
		return touchbase.EINVALID
	case status == http.StatusNotAcceptable:
		return touchbase.EUNSUPPORTED
	case status >= 400 && status < 500:
		return touchbase.EINVALID
	}
	return touchbase.EINTERNAL
}

// ErrorResponse is the one JSON shape of every error the server returns:
// {"error": {"code", "message", "fields", "request_id"}}. It is also the
// error type of the admin API's operations (it satisfies huma.StatusError).
type ErrorResponse struct {
	status int
	Err    ErrorBody `json:"error"`
}

// ErrorBody is what went wrong. Fields names each offending field; Index is
// the position of the event in a batch, -1 otherwise.
type ErrorBody struct {
	Code      string                 `json:"code" doc:"Machine-readable error code: invalid, unauthorized, forbidden, not_found, conflict, gone, too_large, unsupported, rate_limited, unavailable, no_room, timeout or internal."`
	Message   string                 `json:"message" doc:"What is wrong, for people."`
	Fields    []touchbase.FieldError `json:"fields" doc:"The offending fields, if any."`
	RequestID string                 `json:"request_id" doc:"The request id, also in the X-Request-Id header and the server log."`
}

// Error returns the message.
func (e *ErrorResponse) Error() string { return e.Err.Message }

// GetStatus returns the HTTP status.
func (e *ErrorResponse) GetStatus() int { return e.status }

// statusError is an error with a status the code table does not give (405).
type statusError struct {
	status int
	code   string
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// errorResponse turns err into the response to send, logging internal
// errors with the request id (their details never reach the client).
func (s *Server) errorResponse(ctx context.Context, err error) *ErrorResponse {
	id := requestID(ctx)
	var er *ErrorResponse
	if errors.As(err, &er) {
		if er.Err.RequestID == "" {
			er.Err.RequestID = id
		}
		return er
	}
	var se *statusError
	if errors.As(err, &se) {
		return &ErrorResponse{status: se.status, Err: ErrorBody{Code: se.code, Message: se.msg, Fields: []touchbase.FieldError{}, RequestID: id}}
	}
	if ce := clientError(err); ce != nil {
		s.log.Debug("client fault", "request_id", id, "err", err)
		err = ce
	}
	code := touchbase.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = touchbase.EINTERNAL, http.StatusInternalServerError
	}
	body := ErrorBody{Code: code, Message: touchbase.ErrorMessage(err), Fields: []touchbase.FieldError{}, RequestID: id}
	var te *touchbase.Error
	if errors.As(err, &te) && len(te.Fields) > 0 {
		body.Fields = te.Fields
	}
	if code == touchbase.EINTERNAL {
		body.Message = "internal error"
		if errors.Is(err, context.Canceled) {
			s.log.Debug("request canceled", "request_id", id, "err", err)
		} else {
			s.log.Error("internal error", "request_id", id, "err", err)
		}
	}
	return &ErrorResponse{status: status, Err: body}
}

// bodyError is an error of reading the request body from the connection:
// the client closed it, lost it or stalled before the whole body arrived.
// instrument wraps every request body so that such errors carry this
// mark, and a timeout elsewhere (a database's) is never taken for the
// client's.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// requestBody is a request body whose read errors are bodyErrors (io.EOF,
// the normal end, is not an error and stays io.EOF).
type requestBody struct{ io.ReadCloser }

func (b requestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// clientError returns what a transport fault of the client is answered
// with, or nil when err is not one: a body over http.MaxBytesReader's
// limit is ETOOLARGE (413), a body that did not arrive within the read
// timeout ETIMEOUT (408), and one cut short (the client disconnected
// mid-body) EINVALID (400). They are logged at debug level: the server
// has nothing to fix.
func clientError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return touchbase.Errorf(touchbase.ETOOLARGE, "the request body is over its limit of %d bytes", mb.Limit)
	}
	var be *bodyError
	if !errors.As(err, &be) {
		return nil
	}
	var ne net.Error
	if errors.As(be.err, &ne) && ne.Timeout() {
		return touchbase.Errorf(touchbase.ETIMEOUT, "the request body did not arrive in time: the connection stalled before all of it was sent")
	}
	return touchbase.Errorf(touchbase.EINVALID, "the request body ended early (%v): the connection was closed before all of it arrived", be.err)
}

// writeError is the one place that renders an error for net/http handlers.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	er := s.errorResponse(r.Context(), err)
	if er.status == http.StatusUnauthorized && strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="touchbase"`)
	}
	writeJSON(w, er.status, er)
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug gets here: every value written is plain data.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error","fields":[],"request_id":""}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// humaErrors installs the server's error shape as huma's error model, once
// per process: huma reads it from package variables. The functions are pure
// (the request id comes from the request's context), so every Server shares
// them safely.
var humaErrors sync.Once

func installHumaErrors() {
	humaErrors.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return newHumaError("", status, msg, errs)
		}
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			id := ""
			if ctx != nil {
				id = requestID(ctx.Context())
			}
			return newHumaError(id, status, msg, errs)
		}
	})
}

// newHumaError converts huma's errors (request validation, body parsing) to
// the one shape: 422 becomes 400 invalid, and each huma.ErrorDetail becomes
// a field named by its location ("body.traits" -> "traits", "query.limit").
func newHumaError(id string, status int, msg string, errs []error) *ErrorResponse {
	if status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError {
		// huma answers 500 when it cannot read a body; a client that went
		// away mid-body is not the server's fault.
		for _, err := range errs {
			if ce := clientError(err); ce != nil {
				return &ErrorResponse{status: statusOf[touchbase.ErrorCode(ce)],
					Err: ErrorBody{Code: touchbase.ErrorCode(ce), Message: touchbase.ErrorMessage(ce), Fields: []touchbase.FieldError{}, RequestID: id}}
			}
		}
	}
	body := ErrorBody{Code: codeOf(status), Message: msg, Fields: []touchbase.FieldError{}, RequestID: id}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			det := d.ErrorDetail()
			field := strings.TrimPrefix(det.Location, "body.")
			if field == "body" {
				field = ""
			}
			body.Fields = append(body.Fields, touchbase.FieldError{Index: -1, Field: field, Message: det.Message})
			continue
		}
		// Errors that are not details (a body that is not JSON) are the
		// client's too; their text names the problem.
		body.Fields = append(body.Fields, touchbase.FieldError{Index: -1, Message: err.Error()})
	}
	if status < 500 && len(body.Fields) > 0 {
		f := body.Fields[0]
		switch {
		case f.Field != "":
			body.Message = msg + ": " + f.Field + ": " + f.Message
		case f.Message != "":
			body.Message = msg + ": " + f.Message
		}
	}
	if body.Code == touchbase.EINTERNAL {
		// Never echo internal details.
		body.Code, body.Message, body.Fields = touchbase.EINTERNAL, "internal error", []touchbase.FieldError{}
	}
	return &ErrorResponse{status: status, Err: body}
}
