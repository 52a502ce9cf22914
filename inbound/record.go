package inbound

import (
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/jsonscan"
)

// MaxRecordBytes bounds one imported record: an order of a few thousand
// lines fits, a runaway line of a broken file does not.
const MaxRecordBytes = 4 << 20

// ParseRecord decodes one inbound read from an import file (an
// NDJSON line, or what the importer made of CSV rows). It validates as /v1
// does, with two differences that files need: a record may be up to
// MaxRecordBytes (an imported order may have hundreds of lines), and a
// person may be named by an email or phone in the traits alone. An order
// event that names nobody is a guest checkout: the inbound comes back with
// Guest set.
//
// The inbound's raw JSON (Properties, Context) points into body, which
// must not change afterwards; ParseRecord rewrites \u0000 and lone
// surrogates in it to \ufffd, as Parse does. An invalid record is an EINVALID *touchbase.Error whose one FieldError
// names the field.
func ParseRecord(body []byte, receivedAt time.Time) (touchbase.Inbound, error) {
	var in touchbase.Inbound
	if len(body) > MaxRecordBytes {
		return in, touchbase.Errorf(touchbase.ETOOLARGE, "record is %d bytes; the limit is %d", len(body), MaxRecordBytes)
	}
	p := parser{record: true, receivedAt: receivedAt.UTC(), body: body}
	s := jsonscan.Scanner{Data: body, Mend: true}
	s.SkipSpace()
	if s.Peek() != '{' {
		return in, notObject(&s)
	}
	var ev rawEvent
	if err := readEvent(&s, &ev, 1); err != nil {
		return in, bodyError(err)
	}
	if err := s.End(); err != nil {
		return in, bodyError(err)
	}
	if fe := p.event(&ev, &in); fe != nil {
		return touchbase.Inbound{}, &touchbase.Error{
			Code:    touchbase.EINVALID,
			Message: fmt.Sprintf("invalid record: %s", fe.Message),
			Fields:  []touchbase.FieldError{*fe},
		}
	}
	return in, nil
}

// maxEventBytes is the size limit of one event.
func (p *parser) maxEventBytes() int {
	if p.record {
		return MaxRecordBytes
	}
	return MaxEventBytes
}
