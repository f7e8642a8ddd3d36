package launch

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mailsneaker/accounts"
)

// Values are the placeholder values of one mail, by name without braces
// ("message_id" → "x@example.org"). They are the sender's or the server's
// text: each becomes one argv element, never text spliced into a shell line.
type Values map[string]string

// shellSpecial are the characters that give an unquoted word a meaning
// only sh knows: pipes, lists, redirections, subshells, expansions, globs.
const shellSpecial = "|&;<>()$`*?[\n"

// errUnclosed is a quote left open in open_command.
var errUnclosed = errors.New("open_command has an unclosed quote")

// Argv is the argv that runs command, an open_command, for the mail of v.
//
// A command of plain words (with sh's quotes and backslashes) is split
// here, and each {placeholder} is replaced inside its word: `thunderbird
// mid:{message_id}` becomes ["thunderbird", "mid:x@y"]. A command that uses
// shell syntax (pipes, ;, $, redirections, globs, a leading VAR=value) runs
// as `sh -c script mailsneaker v1 v2 ...`, each placeholder in script
// turned into a quoted positional parameter ("${1}"), so that sh expands it
// as one word and never parses it.
//
// A value that would start a word with "-" is refused: it would read as an
// option of the program.
func Argv(command string, v Values) ([]string, error) {
	shell, err := needsShell(command)
	if err != nil {
		return nil, err
	}
	t := &template{src: command, v: v, shell: shell}
	if err := t.run(); err != nil {
		return nil, err
	}
	if shell {
		return append([]string{"sh", "-c", t.script.String(), "mailsneaker"}, t.params...), nil
	}
	if len(t.words) == 0 {
		return nil, errors.New("open_command is empty")
	}
	return t.words, nil
}

// needsShell reports whether command uses syntax only sh can run.
func needsShell(command string) (bool, error) {
	quote := byte(0)
	wordStart, firstWord := true, true
	for i := 0; i < len(command); i++ {
		c := command[i]
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
			}
			continue
		case '"':
			switch c {
			case '"':
				quote = 0
			case '$', '`':
				return true, nil
			case '\\':
				i++
			}
			continue
		}
		switch {
		case c == '\'' || c == '"':
			quote = c
		case c == '\\':
			i++
		case c == ' ' || c == '\t':
			if !wordStart {
				firstWord = false
			}
			wordStart = true
			continue
		case strings.IndexByte(shellSpecial, c) >= 0:
			return true, nil
		case wordStart && (c == '#' || c == '~'):
			return true, nil
		case firstWord && c == '=':
			return true, nil // VAR=value command
		}
		wordStart = false
	}
	if quote != 0 {
		return false, errUnclosed
	}
	return false, nil
}

// template walks an open_command once, building either the words (plain
// mode) or the sh script and its positional parameters (shell mode).
type template struct {
	src   string
	v     Values
	shell bool

	words  []string
	cur    strings.Builder
	inWord bool

	script strings.Builder
	params []string
}

func (t *template) run() error {
	quote := byte(0)
	s := t.src
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' && (i == 0 || s[i-1] != '$') {
			if name, n, ok := placeholderAt(s[i:]); ok {
				if err := t.placeholder(name, quote); err != nil {
					return err
				}
				i += n - 1
				continue
			}
		}
		if t.shell {
			// sh parses the rest as the user wrote it; the quotes are
			// followed only to quote each placeholder right.
			t.script.WriteByte(c)
			switch {
			case quote == '\'' && c == '\'', quote == '"' && c == '"':
				quote = 0
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			case quote != '\'' && c == '\\' && i+1 < len(s):
				i++
				t.script.WriteByte(s[i])
			}
			continue
		}
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
			} else {
				t.cur.WriteByte(c)
			}
			continue
		case '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\\n", s[i+1]) >= 0:
				i++
				if s[i] != '\n' {
					t.cur.WriteByte(s[i])
				}
			default:
				t.cur.WriteByte(c)
			}
			continue
		}
		switch c {
		case ' ', '\t':
			t.endWord()
		case '\'', '"':
			quote, t.inWord = c, true
		case '\\':
			t.inWord = true
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					t.cur.WriteByte(s[i])
				}
			}
		default:
			t.inWord = true
			t.cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return errUnclosed
	}
	t.endWord()
	return nil
}

func (t *template) endWord() {
	if t.inWord {
		t.words = append(t.words, t.cur.String())
	}
	t.cur.Reset()
	t.inWord = false
}

// placeholder puts the value of name in, quoted as where it stands requires.
func (t *template) placeholder(name string, quote byte) error {
	val := t.v[name]
	if strings.HasPrefix(val, "-") && t.atWordStart(quote) {
		return fmt.Errorf("{%s} is %q, which starts with - and would read as an option: not run", name, val)
	}
	if !t.shell {
		t.cur.WriteString(val)
		t.inWord = true
		return nil
	}
	t.params = append(t.params, val)
	ref := "${" + strconv.Itoa(len(t.params)) + "}"
	switch quote {
	case '\'':
		t.script.WriteString(`'"` + ref + `"'`)
	case '"':
		t.script.WriteString(ref)
	default:
		t.script.WriteString(`"` + ref + `"`)
	}
	return nil
}

// atWordStart reports whether a placeholder here begins a word.
func (t *template) atWordStart(quote byte) bool {
	if !t.shell {
		return t.cur.Len() == 0
	}
	sc := strings.TrimRight(t.script.String(), `'"`)
	return sc == "" || strings.ContainsRune(" \t\n;|&(", rune(sc[len(sc)-1]))
}

// placeholderAt reads "{name}" at the start of s, for a known name; n is
// its length.
func placeholderAt(s string) (name string, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", 0, false
	}
	name = s[1:end]
	if slices.Contains(accounts.Placeholders(), name) {
		return name, end + 1, true
	}
	return "", 0, false
}
