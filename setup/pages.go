package setup

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
)

//go:embed templates/pages.html templates/style.css
var assets embed.FS

// pages holds the parsed templates and the stylesheet.
type pages struct {
	t   *template.Template
	css []byte
}

func loadPages() (*pages, error) {
	t, err := template.New("pages").Funcs(template.FuncMap{"has": slices.Contains[[]string]}).ParseFS(assets, "templates/pages.html")
	if err != nil {
		return nil, fmt.Errorf("setup: templates: %w", err)
	}
	css, err := assets.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("setup: stylesheet: %w", err)
	}
	return &pages{t: t, css: css}, nil
}

// render executes page into a buffer first, so that a template error
// never sends half a page.
func (s *Server) render(w http.ResponseWriter, page string, v *view) {
	var b bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&b, page, v); err != nil {
		s.log.Error("setup page template failed", "page", page, "err", err)
		http.Error(w, "internal error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}
