package cli

import (
	"fmt"
	"io"
	"strings"
)

// ManPage writes mailsneaker(1) in roff (man(7) macros) for the given
// version and date ("2006-01-02"); both are arguments so that a build of
// one commit makes the same page.
func (r Reference) ManPage(w io.Writer, version, date string) {
	p := &roff{w: w}
	p.line(`.\" Generated from cli.Help by cli/cmd/mkman; edit cli/help.go instead.`)
	p.req("TH", strings.ToUpper(r.Name), "1", date, r.Name+" "+version, "User Commands")
	p.req("SH", "NAME")
	p.text(r.Name + ` \- ` + roffEscape(r.Summary))
	p.req("SH", "SYNOPSIS")
	for i, c := range r.Commands {
		if i > 0 {
			p.line(".br")
		}
		p.synopsis(r, c)
	}
	p.req("SH", "DESCRIPTION")
	for i, t := range r.Text {
		if i > 0 {
			p.line(".PP")
		}
		p.text(roffEscape(t))
	}
	p.req("SH", "OPTIONS")
	for _, f := range r.Global {
		p.flag(f, "-")
	}
	p.req("SH", "COMMANDS")
	for _, c := range r.Commands {
		p.line(".TP")
		if c.Name == "" {
			p.text(`(no command)`)
		} else {
			args := c.Synopsis
			if len(args) > 40 { // in full in the SYNOPSIS
				args = "[flags]"
			}
			p.text(`\fB` + literal(c.Name) + `\fR` + synopsisArgs(args))
		}
		p.text(roffEscape(c.text()))
		if len(c.Flags) > 0 {
			p.line(".RS")
			for _, f := range c.Flags {
				p.flag(f, "--")
			}
			p.line(".RE")
		}
	}
	p.req("SH", "EXIT STATUS")
	for _, e := range r.Exit {
		p.line(".TP")
		p.text(fmt.Sprint(e.Code))
		p.text(roffEscape(e.Text))
	}
	p.req("SH", "FILES")
	for _, f := range r.Files {
		p.line(".TP")
		p.text(`\fI` + roffEscape(f[0]) + `\fR`)
		p.text(roffEscape(f[1]))
	}
	p.req("SH", "SEE ALSO")
	var refs []string
	for _, s := range r.SeeAlso {
		name, sec, _ := strings.Cut(strings.TrimSuffix(s, ")"), "(")
		refs = append(refs, `\fB`+roffEscape(name)+`\fR(`+sec+`)`)
	}
	p.text(strings.Join(refs, ", "))
}

// roff writes man(7) source line by line.
type roff struct{ w io.Writer }

func (p *roff) line(s string) { fmt.Fprintln(p.w, s) }

// text writes a text line; one that starts with a control character would
// be read as a request.
func (p *roff) text(s string) {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	p.line(s)
}

// req writes a request with quoted arguments.
func (p *roff) req(name string, args ...string) {
	var b strings.Builder
	b.WriteString("." + name)
	for _, a := range args {
		b.WriteString(` "` + strings.ReplaceAll(roffEscape(a), `"`, `""`) + `"`)
	}
	p.line(b.String())
}

func (p *roff) synopsis(r Reference, c Command) {
	s := `\fB` + r.Name + `\fR`
	if c.Name == "" {
		for _, f := range r.Global {
			s += ` [\fB\-` + literal(f.Name) + `\fR]`
		}
	} else {
		s += ` \fB` + literal(c.Name) + `\fR`
	}
	p.text(s + synopsisArgs(c.Synopsis))
}

func (p *roff) flag(f Flag, dashes string) {
	p.line(".TP")
	s := `\fB` + literal(dashes+f.Name) + `\fR`
	if f.Arg != "" {
		s += ` \fI` + roffEscape(f.Arg) + `\fR`
	}
	p.text(s)
	p.text(roffEscape(f.Usage))
}

// synopsisArgs is a command's synopsis with its flags' dashes as roff
// minus signs, led by a space; "" when there is none.
func synopsisArgs(s string) string {
	if s == "" {
		return ""
	}
	return " " + literal(s)
}

// literal is text typed as shown (a command, a flag): its hyphens are
// minus signs, so that copying from the page works.
func literal(s string) string {
	return strings.ReplaceAll(roffEscape(s), "-", `\-`)
}

// roffEscape makes plain text safe in roff: a backslash is an escape.
func roffEscape(s string) string {
	return strings.ReplaceAll(s, `\`, `\e`)
}
