// Package audience moves a segment's members in and out of touchbase as
// people exchange them: CSV exports (plain, or with SHA-256 hashes for ad
// platforms' custom audiences) and lists of identifiers to add to a static
// segment. The admin API, the console and the CLI all use it, so that an
// export or an upload means the same thing wherever it is made.
package audience

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/csvsafe"
)

// exportBatch is how many customers one store read of an export takes.
const exportBatch = 1000

// WriteCSV writes a segment export: id, user_id, email, phone, and with
// hashed the SHA-256 of the normalised email (lower case) and phone
// (E.164: + and digits), as ad platforms match custom audiences. load
// reads one page of customers. Cells that a spreadsheet would read as a
// formula are written as text (internal/csvsafe); the hashes are of the
// values as stored, not of the text written.
func WriteCSV(ctx context.Context, w io.Writer, ids []int64, hashed bool, load func([]int64) ([]*touchbase.Customer, error)) error {
	cw := csvsafe.NewWriter(w)
	head := []string{"id", "user_id", "email", "phone"}
	if hashed {
		head = append(head, "email_sha256", "phone_sha256")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		page := ids[:min(exportBatch, len(ids))]
		ids = ids[len(page):]
		cs, err := load(page)
		if err != nil {
			return err
		}
		for _, c := range cs {
			row := []string{strconv.FormatInt(c.ID, 10), c.UserID, c.Email, c.Phone}
			if hashed {
				row = append(row, sha256Hex(touchbase.NormalizeEmail(c.Email)), sha256Hex(touchbase.NormalizePhone(c.Phone)))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// sha256Hex is the hex SHA-256 of s, or "" for "".
func sha256Hex(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Identifiers name customers the ways people know them.
type Identifiers struct {
	CustomerIDs []int64
	UserIDs     []string
	Emails      []string
}

// Len is how many identifiers there are.
func (ids Identifiers) Len() int { return len(ids.CustomerIDs) + len(ids.UserIDs) + len(ids.Emails) }

// csvError is an EINVALID error about the uploaded CSV.
func csvError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	e := touchbase.Errorf(touchbase.EINVALID, "csv: %s", msg)
	e.Fields = []touchbase.FieldError{{Index: -1, Field: "csv", Message: msg}}
	return e
}

// ReadCSV adds the identifiers of a CSV upload to ids: the header names
// the columns (id or customer_id, user_id, email; others are ignored),
// and each row gives the first of them it has. EINVALID for a file
// without such a header or with an id that is not a number.
func ReadCSV(text string, ids Identifiers) (Identifiers, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return ids, csvError("no header row: %s", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if i, ok := col["customer_id"]; ok {
		col["id"] = i
	}
	_, hasID := col["id"]
	_, hasUser := col["user_id"]
	_, hasEmail := col["email"]
	if !hasID && !hasUser && !hasEmail {
		return ids, csvError("the header names no column id, customer_id, user_id or email")
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ids, csvError("%s", err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		switch {
		case get("id") != "":
			id, err := strconv.ParseInt(get("id"), 10, 64)
			if err != nil {
				return ids, csvError("line %d: id %q is not a customer id", line, get("id"))
			}
			ids.CustomerIDs = append(ids.CustomerIDs, id)
		case get("user_id") != "":
			ids.UserIDs = append(ids.UserIDs, get("user_id"))
		case get("email") != "":
			ids.Emails = append(ids.Emails, get("email"))
		}
	}
	return ids, nil
}

// Customers is what Resolve reads; a touchbase.CustomerService is one.
type Customers interface {
	FindCustomers(ctx context.Context, workspaceID int64, ids []int64) ([]*touchbase.Customer, error)
	ListCustomers(ctx context.Context, workspaceID int64, f touchbase.CustomerFilter) ([]*touchbase.Customer, string, error)
}

// Resolve returns the ids of the workspace's customers that ids name, and
// the identifiers that name none, as written. Emails are matched
// normalised (trimmed, lower case), as they are stored.
func Resolve(ctx context.Context, cs Customers, ws int64, ids Identifiers) (found []int64, unknown []string, err error) {
	unknown = []string{}
	known := map[int64]bool{}
	if len(ids.CustomerIDs) > 0 {
		got, err := cs.FindCustomers(ctx, ws, ids.CustomerIDs)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range got {
			known[c.ID] = true
		}
	}
	found = make([]int64, 0, ids.Len())
	for _, id := range ids.CustomerIDs {
		if known[id] {
			found = append(found, id)
		} else {
			unknown = append(unknown, strconv.FormatInt(id, 10))
		}
	}
	lookup := func(f touchbase.CustomerFilter, label string) error {
		f.Limit = 1
		got, _, err := cs.ListCustomers(ctx, ws, f)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			unknown = append(unknown, label)
			return nil
		}
		found = append(found, got[0].ID)
		return nil
	}
	for _, u := range ids.UserIDs {
		if err := lookup(touchbase.CustomerFilter{UserID: u}, u); err != nil {
			return nil, nil, err
		}
	}
	for _, e := range ids.Emails {
		norm := touchbase.NormalizeEmail(e)
		if norm == "" {
			unknown = append(unknown, e)
			continue
		}
		if err := lookup(touchbase.CustomerFilter{Email: norm}, e); err != nil {
			return nil, nil, err
		}
	}
	return found, unknown, nil
}
