package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/csvsafe"
)

// maxImportBytes bounds one uploaded file with its form, as the API bounds
// its uploads (server.MaxImportBytes): gzip a file to send more.
const maxImportBytes = 512 << 20

// importsShown is how many of the latest imports the list shows.
const importsShown = 50

// importFormats are the format choices; "" guesses from the file.
var importFormats = []string{"", "csv", "ndjson", "online-retail", "cdnow"}

// importView adds what the templates need to an import.
type importView struct{ *touchbase.Import }

// Active reports whether the import may still change: its page polls.
func (v importView) Active() bool {
	return v.Status == touchbase.ImportQueued || v.Status == touchbase.ImportRunning
}

// Percent is how much of the file was read, 0 to 100.
func (v importView) Percent() int64 {
	switch {
	case v.Status == touchbase.ImportDone:
		return 100
	case v.Size <= 0:
		return 0
	}
	p := v.BytesRead * 100 / v.Size
	return min(max(p, 0), 100)
}

// MoreErrors reports whether more lines were bad than the import kept.
func (v importView) MoreErrors() bool { return v.Errors > int64(len(v.LineErrors)) }

// MoreWarnings reports whether there were more warnings than the import kept.
func (v importView) MoreWarnings() bool { return v.Warnings > int64(len(v.LineWarnings)) }

type importsData struct {
	base
	Imports   []importView
	CanUpload bool
	Kinds     []touchbase.ImportKind
	Formats   []string
	// The form's values, kept when it comes back with an error.
	Kind, Format, Map, Error string
}

type importData struct {
	base
	Im importView
}

// imports lists the workspace's imports with, for marketers and above, the
// upload form.
func (h *Handler) imports(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.renderImports(w, r, rq, http.StatusOK, &importsData{Kind: string(touchbase.ImportCustomers)})
}

func (h *Handler) renderImports(w http.ResponseWriter, r *http.Request, rq *request, status int, d *importsData) error {
	if h.svc.Imports == nil {
		return touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not record imports")
	}
	d.base = h.base(rq, "Import", "imports")
	d.CanUpload = d.CanEdit && h.svc.Importer != nil
	d.Kinds, d.Formats = touchbase.ImportKinds, importFormats
	ims, err := h.svc.Imports.ListImports(r.Context(), rq.ws.ID, importsShown)
	if err != nil {
		return err
	}
	for _, im := range ims {
		d.Imports = append(d.Imports, importView{im})
	}
	h.render(w, status, "imports", d)
	return nil
}

// upload starts an import of the posted file. A bad kind, format or
// mapping comes back on the form with what was chosen, not as an error page.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, rq *request) error {
	if h.svc.Importer == nil {
		return touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not run imports")
	}
	d := &importsData{Kind: r.PostFormValue("kind"), Format: r.PostFormValue("format"), Map: strings.TrimSpace(r.PostFormValue("map"))}
	id, err := h.submitUpload(r, rq, d)
	if touchbase.ErrorCode(err) == touchbase.EINVALID {
		d.Error = touchbase.ErrorMessage(err)
		return h.renderImports(w, r, rq, h.cfg.StatusOf(touchbase.EINVALID), d)
	} else if err != nil {
		return err
	}
	redirect(w, r, Prefix+"/imports/"+strconv.FormatInt(id, 10))
	return nil
}

func (h *Handler) submitUpload(r *http.Request, rq *request, d *importsData) (int64, error) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return 0, fieldError("file", "the file is larger than 512 MiB: gzip it, or import it with the CLI")
		}
		return 0, fieldError("file", "choose a file to import")
	}
	defer f.Close()
	if hdr.Size == 0 {
		return 0, fieldError("file", "%s is empty", hdr.Filename)
	}
	im := &touchbase.Import{WorkspaceID: rq.ws.ID, Kind: touchbase.ImportKind(d.Kind), FileName: hdr.Filename,
		Options: touchbase.ImportOptions{Format: d.Format, Map: d.Map, MaxErrors: 100}}
	if im.FileName == "" {
		im.FileName = "upload"
	}
	if err := h.svc.Importer.Submit(r.Context(), im, f); err != nil {
		return 0, err
	}
	return im.ID, nil
}

// findImport reads the {id} of the path in the session's workspace; an
// import of another workspace is not found, whatever the id.
func (h *Handler) findImport(r *http.Request, rq *request) (*touchbase.Import, error) {
	if h.svc.Imports == nil {
		return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not record imports")
	}
	id, err := pathID(r, "import")
	if err != nil {
		return nil, err
	}
	return h.svc.Imports.FindImport(r.Context(), rq.ws.ID, id)
}

// importPage shows one import; htmx polls its status fragment while it
// runs (the fragment drops its trigger once the import has ended).
func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	im, err := h.findImport(r, rq)
	if err != nil {
		return err
	}
	d := &importData{base: h.base(rq, "Import "+im.FileName, "imports"), Im: importView{im}}
	if isHTMX(r) && r.Header.Get("HX-Target") == "import-status" {
		h.execute(w, "import", "import-status", d)
		return nil
	}
	h.render(w, http.StatusOK, "import", d)
	return nil
}

// importErrors downloads an import's bad lines as CSV: line, column and
// message (the file itself is not kept once imported).
func (h *Handler) importErrors(w http.ResponseWriter, r *http.Request, rq *request) error {
	im, err := h.findImport(r, rq)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(im.ID, 10)+`-errors.csv"`)
	hd.Set("Cache-Control", "no-store")
	// Messages quote the file's own (untrusted) values: csvsafe keeps a
	// spreadsheet from reading them as formulas.
	cw := csvsafe.NewWriter(w)
	cw.Write([]string{"line", "column", "message"})
	for _, le := range im.LineErrors {
		cw.Write([]string{strconv.Itoa(le.Line), le.Column, le.Message})
	}
	cw.Flush()
	return cw.Error()
}
