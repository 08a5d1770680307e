package nn

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The text form of a Spec (see Spec):
//
//	chain  = item { "-" item }
//	item   = name [ "(" args ")" ]          a layer
//	       | name "(" chain ")"             a container's layers
//	args   = arg { "," arg }
//	arg    = value | setting "=" value
//	value  = a number, true, false, or a word ("he-uniform"; quote it
//	         with "…" if it holds ",", ")" or "=")
//
// Names are the kinds' text names (Kind.Text) or JSON names, in any case.
// Settings given by position fill the kind's settings in order, skipping
// inferred ones. The whole chain is a Sequential.

// ParseText reads the text form of a Sequential spec, such as
// "linear(512)-relu-dropout(0.2)-linear(10)". Settings are checked;
// inferred ones (input sizes) are left for Resolve. Errors name the layer
// and the column.
func ParseText(text string) (Spec, error) {
	p := &textParser{s: text}
	if strings.TrimSpace(text) == "" {
		return Seq(), nil // the empty chain: an empty Sequential, the identity
	}
	layers, err := p.chain(0, "")
	if err != nil {
		return Spec{}, err
	}
	p.space()
	if p.i < len(p.s) {
		return Spec{}, p.errf("unexpected %q", p.s[p.i:])
	}
	s := Seq(layers...)
	n := 0
	ns, _, err := normalise(s, "", 0, &n, false)
	if err != nil {
		return Spec{}, err
	}
	return ns, nil
}

type textParser struct {
	s string
	i int
}

func (p *textParser) errf(format string, args ...any) error {
	return fmt.Errorf("nn: spec text %q, column %d: %s", clipText(p.s), p.i+1, fmt.Sprintf(format, args...))
}

func clipText(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func (p *textParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *textParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *textParser) chain(depth int, path string) ([]Spec, error) {
	if depth > MaxSpecDepth {
		return nil, p.errf("nested deeper than %d levels", MaxSpecDepth)
	}
	var out []Spec
	for {
		if len(out) >= MaxSpecLayers {
			return nil, p.errf("more than %d layers", MaxSpecLayers)
		}
		it, err := p.item(depth, joinPath(path, strconv.Itoa(len(out))))
		if err != nil {
			return nil, err
		}
		out = append(out, it)
		if p.peek() != '-' {
			return out, nil
		}
		p.i++
	}
}

func (p *textParser) item(depth int, path string) (Spec, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && isNameByte(p.s[p.i]) {
		p.i++
	}
	name := p.s[start:p.i]
	if name == "" {
		if p.i >= len(p.s) {
			return Spec{}, p.errf("a layer name is missing at the end (known: %s)", strings.Join(KindNames(), ", "))
		}
		return Spec{}, p.errf("want a layer name, found %q", p.s[p.i:p.i+1])
	}
	k, ok := LookupKind(name)
	if !ok {
		p.i = start
		return Spec{}, p.errf("unknown layer %q (known: %s)", name, strings.Join(KindNames(), ", "))
	}
	s := Spec{Type: k.Name}
	if p.peek() != '(' {
		return s, nil
	}
	p.i++
	if k.Container {
		if p.peek() == ')' {
			p.i++
			return s, nil
		}
		layers, err := p.chain(depth+1, path)
		if err != nil {
			return s, err
		}
		s.Layers = layers
		if p.peek() != ')' {
			return s, p.errf("want ')' to close %s(", name)
		}
		p.i++
		return s, nil
	}
	var positional []Setting
	for _, st := range k.Settings {
		if !st.Inferred {
			positional = append(positional, st)
		}
	}
	pos := 0
	if p.peek() == ')' {
		p.i++
		return s, nil
	}
	for {
		key, val, err := p.arg()
		if err != nil {
			return s, err
		}
		if s.Settings == nil {
			s.Settings = map[string]any{}
		}
		if key == "" {
			if pos >= len(positional) {
				return s, specErr(path, k.Name, "", "too many settings by position (%s)", settingList(&k))
			}
			key = positional[pos].Name
			pos++
		} else if pos < len(positional) && positional[pos].Name == key {
			pos++
		}
		if _, dup := s.Settings[key]; dup {
			return s, specErr(path, k.Name, key, "given twice")
		}
		s.Settings[key] = val
		switch p.peek() {
		case ',':
			p.i++
		case ')':
			p.i++
			return s, nil
		default:
			return s, p.errf("want ',' or ')' in the settings of %s", name)
		}
	}
}

// arg reads "value" or "name=value".
func (p *textParser) arg() (key string, val any, err error) {
	tok, quoted, err := p.token()
	if err != nil {
		return "", nil, err
	}
	if !quoted && p.peek() == '=' {
		p.i++
		key = tok
		if key == "" {
			return "", nil, p.errf("a setting name is missing before '='")
		}
		tok, quoted, err = p.token()
		if err != nil {
			return "", nil, err
		}
	}
	if quoted {
		return key, tok, nil
	}
	switch {
	case tok == "":
		return "", nil, p.errf("a value is missing")
	case tok == "true":
		return key, true, nil
	case tok == "false":
		return key, false, nil
	}
	if _, err := strconv.ParseFloat(tok, 64); err == nil {
		return key, json.Number(tok), nil
	}
	return key, tok, nil
}

// token reads up to ',', ')' or '=' (or a "…" string).
func (p *textParser) token() (string, bool, error) {
	if p.peek() == '"' {
		start := p.i
		for j := p.i + 1; j < len(p.s); j++ {
			if p.s[j] == '\\' {
				j++
				continue
			}
			if p.s[j] == '"' {
				v, err := strconv.Unquote(p.s[start : j+1])
				if err != nil {
					return "", false, p.errf("bad string: %v", err)
				}
				p.i = j + 1
				return v, true, nil
			}
		}
		return "", false, p.errf("unterminated string")
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",)=(", rune(p.s[p.i])) {
		p.i++
	}
	if p.i >= len(p.s) {
		return "", false, p.errf("want ')' before the end")
	}
	if p.s[p.i] == '(' {
		return "", false, p.errf("unexpected '(' in a setting")
	}
	return strings.TrimSpace(p.s[start:p.i]), false, nil
}

// Text returns the text form of s (see ParseText): for a Sequential the
// chain of its layers, for any other layer a chain of that one layer.
// Settings at their default and inferred settings are left out, so
// ParseText then Resolve with the same input gives s back. s must be
// normalised (Resolve or a parse); Text of an unknown kind writes its
// name as it is.
func (s Spec) Text() string {
	if k, ok := LookupKind(s.Type); ok && k.Container && k.Name == "Sequential" {
		return formatChain(s.Layers)
	}
	return formatItem(s)
}

// String is the text form.
func (s Spec) String() string { return s.Text() }

func formatChain(layers []Spec) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = formatItem(l)
	}
	return strings.Join(parts, "-")
}

func formatItem(s Spec) string {
	k, ok := LookupKind(s.Type)
	if !ok {
		return s.Type
	}
	if k.Container {
		return k.Text + "(" + formatChain(s.Layers) + ")"
	}
	var args []string
	byPos := true
	for _, st := range k.Settings {
		if st.Inferred {
			continue
		}
		v, ok := s.Settings[st.Name]
		if !ok || (st.Default != nil && sameSetting(st, v, st.Default)) {
			byPos = false
			continue
		}
		text := formatValue(v)
		if byPos {
			args = append(args, text)
		} else {
			args = append(args, st.Name+"="+text)
		}
	}
	if len(args) == 0 {
		return k.Text
	}
	return k.Text + "(" + strings.Join(args, ", ") + ")"
}

func sameSetting(st Setting, a, b any) bool {
	ca, err1 := convertSetting(st, a)
	cb, err2 := convertSetting(st, b)
	return err1 == nil && err2 == nil && ca == cb
}

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if x == "" || x == "true" || x == "false" || strings.ContainsAny(x, ",)(=\" ") {
			return strconv.Quote(x)
		}
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return strconv.Quote(x)
		}
		return x
	}
	return fmt.Sprint(v)
}
