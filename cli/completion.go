package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// The shell completions, made from the same Reference as the usage text and
// the man page: a command or flag added to Help is completed everywhere.

// node is a command word and what may follow it.
type node struct {
	path  string            // "account add"; "" is the top level
	words []word            // subcommands and flags completed here
	args  map[string]string // flag name → its placeholder, for flags that take a value
}

type word struct{ text, desc string }

// tree lists, per command path, the words completed after it.
func (r Reference) tree() []node {
	byPath := map[string]*node{}
	get := func(path string) *node {
		n := byPath[path]
		if n == nil {
			n = &node{path: path, args: map[string]string{}}
			byPath[path] = n
		}
		return n
	}
	top := get("")
	for _, f := range r.Global {
		top.words = append(top.words, word{"-" + f.Name, f.Usage})
		if f.Arg != "" {
			top.args["-"+f.Name] = f.Arg
		}
	}
	for _, c := range r.Commands {
		if c.Name == "" {
			continue
		}
		fields := strings.Fields(c.Name)
		for i := range fields {
			parent, here := get(strings.Join(fields[:i], " ")), strings.Join(fields[:i+1], " ")
			if _, ok := byPath[here]; !ok {
				desc := c.Summary
				if i < len(fields)-1 {
					desc = fields[i] + " commands"
				}
				parent.words = append(parent.words, word{fields[i], desc})
			}
			get(here)
		}
		n := get(c.Name)
		for _, f := range c.Flags {
			n.words = append(n.words, word{"--" + f.Name, f.Usage})
			if f.Arg != "" {
				n.args["--"+f.Name] = f.Arg
			}
		}
	}
	var out []node
	for _, n := range byPath {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// choices are the values a placeholder like "imap|pop3" allows, or nil.
func choices(arg string) []string {
	if !strings.Contains(arg, "|") {
		return nil
	}
	return strings.Split(arg, "|")
}

// shellQuote quotes s for sh, bash, zsh and fish alike.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Bash writes the bash completion script.
func (r Reference) Bash(w io.Writer) {
	tree := r.tree()
	fmt.Fprintf(w, `# bash completion for %[1]s. Generated from cli.Help by cli/cmd/mkman; edit cli/help.go instead.
_%[1]s() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path="" i w skip=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [ -n "$skip" ]; then skip=""; continue; fi
    case "$path|$w" in
`, r.Name)
	flagArms(w, tree, "      ", func([]string) string { return "skip=1; continue" })
	fmt.Fprintf(w, "    esac\n    case $w in -*) continue ;; esac\n    path=${path:+$path }$w\n  done\n  case \"$path|$prev\" in\n")
	flagArms(w, tree, "    ", func(c []string) string {
		if c != nil {
			return "COMPREPLY=($(compgen -W " + shellQuote(strings.Join(c, " ")) + ` -- "$cur")); return`
		}
		return `COMPREPLY=($(compgen -f -- "$cur")); return`
	})
	fmt.Fprintf(w, "  esac\n  local words=\"\"\n  case $path in\n")
	for _, n := range tree {
		var ws []string
		for _, x := range n.words {
			ws = append(ws, x.text)
		}
		fmt.Fprintf(w, "    %s) words=%s ;;\n", shellQuote(n.path), shellQuote(strings.Join(ws, " ")))
	}
	fmt.Fprintf(w, "  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -F _%[1]s %[1]s\n", r.Name)
}

// Zsh writes the zsh completion function (installed as _mailsneaker).
func (r Reference) Zsh(w io.Writer) {
	tree := r.tree()
	fmt.Fprintf(w, `#compdef %[1]s
# zsh completion for %[1]s. Generated from cli.Help by cli/cmd/mkman; edit cli/help.go instead.
_%[1]s() {
  local path="" i w skip="" prev=${words[CURRENT-1]}
  local -a opts
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    if [[ -n $skip ]]; then skip=""; continue; fi
    case "$path|$w" in
`, r.Name)
	flagArms(w, tree, "      ", func([]string) string { return "skip=1; continue" })
	fmt.Fprintf(w, "    esac\n    [[ $w == -* ]] && continue\n    path=${path:+$path }$w\n  done\n  case \"$path|$prev\" in\n")
	flagArms(w, tree, "    ", func(c []string) string {
		if c != nil {
			return "compadd -- " + strings.Join(c, " ") + "; return"
		}
		return "_default; return"
	})
	fmt.Fprintf(w, "  esac\n  case $path in\n")
	for _, n := range tree {
		var ws []string
		for _, x := range n.words {
			ws = append(ws, shellQuote(strings.ReplaceAll(x.text, ":", `\:`)+":"+x.desc))
		}
		fmt.Fprintf(w, "    %s) opts=(%s) ;;\n", shellQuote(n.path), strings.Join(ws, " "))
	}
	fmt.Fprintf(w, "  esac\n  _describe -t commands %s opts\n}\n_%s \"$@\"\n", shellQuote(r.Name), r.Name)
}

// Fish writes the fish completion script.
func (r Reference) Fish(w io.Writer) {
	fmt.Fprintf(w, "# fish completion for %[1]s. Generated from cli.Help by cli/cmd/mkman; edit cli/help.go instead.\ncomplete -c %[1]s -f\n", r.Name)
	for _, n := range r.tree() {
		// Where the words of n apply: after exactly the words of its path.
		cond := "__fish_use_subcommand"
		if n.path != "" {
			fields := strings.Fields(n.path)
			var parts []string
			for _, f := range fields {
				parts = append(parts, "__fish_seen_subcommand_from "+f)
			}
			cond = strings.Join(parts, "; and ")
			if kids := n.subcommands(); len(kids) > 0 {
				cond += "; and not __fish_seen_subcommand_from " + strings.Join(kids, " ")
			}
		}
		for _, x := range n.words {
			line := fmt.Sprintf("complete -c %s -n %s", r.Name, shellQuote(cond))
			switch {
			case strings.HasPrefix(x.text, "--"):
				line += " -l " + x.text[2:]
			case strings.HasPrefix(x.text, "-"):
				line += " -o " + x.text[1:]
			default:
				line += " -a " + x.text
			}
			if arg, ok := n.args[x.text]; ok {
				if c := choices(arg); c != nil {
					line += " -x -a " + shellQuote(strings.Join(c, " "))
				} else {
					line += " -r -F"
				}
			}
			fmt.Fprintln(w, line+" -d "+shellQuote(x.desc))
		}
	}
}

// flagArms writes a case arm "path|flag) action ;;" for every flag in tree
// that takes a value, bash's and zsh's alike: to skip the value in the word
// loop, or to complete it. action gets the values the flag allows (nil: any,
// such as a file name).
func flagArms(w io.Writer, tree []node, indent string, action func(choices []string) string) {
	for _, n := range tree {
		for _, flag := range n.valued() {
			fmt.Fprintf(w, "%s%s) %s ;;\n", indent, shellQuote(n.path+"|"+flag), action(choices(n.args[flag])))
		}
	}
}

// valued are the flags of n that take a value, in order.
func (n node) valued() []string {
	var out []string
	for _, x := range n.words {
		if _, ok := n.args[x.text]; ok {
			out = append(out, x.text)
		}
	}
	return out
}

// subcommands are the words of n that are commands, not flags.
func (n node) subcommands() []string {
	var out []string
	for _, x := range n.words {
		if !strings.HasPrefix(x.text, "-") {
			out = append(out, x.text)
		}
	}
	return out
}
