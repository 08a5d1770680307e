package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nabla-go/nabla/tensor"
)

// Spec describes a module as data: its kind, its settings and, for a
// container, its layers. Its JSON form is one object with the kind under
// "type", each setting under its own name, and the layers of a container
// under "layers":
//
//	{"type":"Sequential","layers":[
//	  {"type":"Linear","in":784,"out":512,"bias":true,"init":"default"},
//	  {"type":"ReLU"},
//	  {"type":"Linear","in":512,"out":10,"bias":true,"init":"default"}]}
//
// Its text form, for command lines, chains the layers of a Sequential with
// "-" and gives settings in parentheses, by position or by name; input
// sizes are inferred from the data (Resolve):
//
//	linear(512)-relu-dropout(0.2)-linear(10, bias=false)
//
// A Spec read from outside is checked by Resolve (settings and shapes) and
// again by Build before anything is allocated; an error names the layer's
// path ("2" for the third layer, "1.0" inside a nested Sequential) and the
// setting.
//
// Setting values are int, float64, bool or string, as the kind declares
// them (Kind.Settings).
type Spec struct {
	Type     string
	Settings map[string]any
	Layers   []Spec
}

// SettingType is the type of a setting's value.
type SettingType int

// The types a setting can have.
const (
	Int    SettingType = iota // an int
	Float                     // a float64
	Bool                      // a bool
	String                    // a string
)

func (t SettingType) String() string {
	return [...]string{"an integer", "a number", "true or false", "a string"}[t]
}

// Setting declares one setting of a layer kind.
type Setting struct {
	Name string
	Type SettingType
	// Default is the value when the setting is left out; nil makes the
	// setting required (or, with Inferred, inferred from the input).
	Default any
	// Min and Max bound Int and Float settings (both 0: unbounded); with
	// MaxOpen the bound Max itself is outside the range.
	Min, Max float64
	MaxOpen  bool
	// Choices are the values a String setting may take (none: any).
	Choices []string
	// Inferred settings (a Linear's "in") are filled in by Resolve from
	// the input's shape when they are left out; the text form leaves them
	// out.
	Inferred bool
	Doc      string
}

// Kind is a kind of layer that a Spec can name: its settings, how it maps
// the shape of one example, how many numbers it holds, and how it is
// built. Register adds one; the built-in kinds are registered the same
// way.
type Kind struct {
	// Name is the kind's name in the JSON form, PyTorch's class name
	// where there is one ("Linear", "LeakyReLU").
	Name string
	// Text is its name in the text form (default: Name in lower case).
	// Lookups accept either name, in any case.
	Text string
	Doc  string
	// Settings lists the settings in the order the text form takes them
	// by position (inferred ones are skipped there).
	Settings []Setting
	// Container kinds hold Layers (Sequential); others must not.
	Container bool
	// Shape returns the shape of one output example for an input example
	// of shape in (without the batch dimension), or an error when in does
	// not fit. It may fill in inferred settings of s. Its settings are
	// checked, and for a container its layers resolved, before it is
	// called; for a container, in is resolved through s.Layers by the
	// caller-supplied layer shapes (see ResolveLayers). nil: the shape is
	// unchanged.
	Shape func(s *Spec, in []int) ([]int, error)
	// Size returns the number of parameter and buffer elements the
	// built module holds (nil: none), for checks before allocation. The
	// settings are checked and complete.
	Size func(s Spec) (int64, error)
	// Build returns the module. The settings are checked and complete; b
	// builds layers of a container and carries the dtype and generator.
	Build func(s Spec, b *Builder) (Module, error)
}

// Builder carries what Build needs beyond a Spec: the parameters' dtype,
// the generator that initialises them (and that Dropout layers keep), and
// the path of the layer being built.
type Builder struct {
	DType tensor.DType
	RNG   *rand.Rand
	path  string
}

// Path is the path of the layer being built ("" for the root).
func (b *Builder) Path() string { return b.path }

// Layer builds the child spec s at the given name under the layer being
// built (for containers).
func (b *Builder) Layer(name string, s Spec) (Module, error) {
	return buildAt(s, b.DType, b.RNG, joinPath(b.path, name))
}

// Specer is implemented by modules that can describe themselves as a Spec
// (every built-in module). SpecOf uses it.
type Specer interface{ Spec() Spec }

var registry = struct {
	sync.RWMutex
	kinds []*Kind
	by    map[string]*Kind
}{by: map[string]*Kind{}}

// Register adds a layer kind, so that Specs can name it. Built-in kinds
// are registered the same way. A kind without Name or Build, with a name
// already taken, or with a malformed setting is an error.
func Register(k Kind) error {
	if k.Name == "" || k.Build == nil {
		return errors.New("nn: Register: a kind needs a Name and a Build function")
	}
	if k.Text == "" {
		k.Text = strings.ToLower(k.Name)
	}
	if strings.ContainsAny(k.Text, "-(),= ") {
		return fmt.Errorf("nn: Register: text name %q may not contain '-', '(', ')', ',', '=' or spaces", k.Text)
	}
	seen := map[string]bool{"type": true, "layers": true}
	for _, st := range k.Settings {
		if st.Name == "" || seen[st.Name] {
			return fmt.Errorf("nn: Register %s: setting name %q is empty, repeated or reserved", k.Name, st.Name)
		}
		seen[st.Name] = true
		if st.Default != nil {
			if _, err := convertSetting(st, st.Default); err != nil {
				return fmt.Errorf("nn: Register %s: default of %q: %v", k.Name, st.Name, err)
			}
		}
	}
	registry.Lock()
	defer registry.Unlock()
	for _, n := range []string{strings.ToLower(k.Name), strings.ToLower(k.Text)} {
		if _, ok := registry.by[n]; ok {
			return fmt.Errorf("nn: Register: a kind named %q exists already", n)
		}
	}
	kp := &k
	kp.Settings = slices.Clone(k.Settings)
	registry.kinds = append(registry.kinds, kp)
	registry.by[strings.ToLower(k.Name)] = kp
	registry.by[strings.ToLower(k.Text)] = kp
	return nil
}

// mustRegister registers a built-in kind.
func mustRegister(k Kind) {
	if err := Register(k); err != nil {
		panic(err)
	}
}

// Kinds lists the registered layer kinds, in registration order (built-in
// kinds first). The result is a copy.
func Kinds() []Kind {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Kind, len(registry.kinds))
	for i, k := range registry.kinds {
		out[i] = *k
	}
	return out
}

// KindNames lists the text names of the registered kinds.
func KindNames() []string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.Text)
	}
	return names
}

// LookupKind returns the kind with the given JSON or text name (any case).
func LookupKind(name string) (Kind, bool) {
	registry.RLock()
	defer registry.RUnlock()
	k, ok := registry.by[strings.ToLower(name)]
	if !ok {
		return Kind{}, false
	}
	return *k, true
}

// SpecError is an error in a Spec: the layer's path, its kind, the
// setting (if one is at fault) and what is wrong.
type SpecError struct {
	Path    string // "" for the root, "2", "1.0"
	Type    string
	Setting string
	Msg     string
}

func (e *SpecError) Error() string {
	var sb strings.Builder
	sb.WriteString("nn: spec: ")
	if e.Path == "" {
		sb.WriteString("the model")
	} else {
		sb.WriteString("layer " + e.Path)
	}
	if e.Type != "" {
		sb.WriteString(" (" + e.Type + ")")
	}
	if e.Setting != "" {
		sb.WriteString(": setting " + strconv.Quote(e.Setting))
	}
	sb.WriteString(": " + e.Msg)
	return sb.String()
}

func specErr(path, typ, setting, format string, args ...any) error {
	return &SpecError{Path: path, Type: typ, Setting: setting, Msg: fmt.Sprintf(format, args...)}
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// Limits on specs read from outside: deeper or wider trees are refused
// before anything is built.
const (
	MaxSpecDepth  = 64
	MaxSpecLayers = 1 << 16
)

// convertSetting converts v (as decoded from JSON or the text form, or
// given in Go) to the setting's type and checks its range.
func convertSetting(st Setting, v any) (any, error) {
	switch st.Type {
	case Int:
		var f float64
		switch x := v.(type) {
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case float64:
			f = x
		case json.Number:
			n, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("want %s, got %s", st.Type, x)
			}
			f = float64(n)
		default:
			return nil, fmt.Errorf("want %s, got %v", st.Type, describe(v))
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("want %s, got %v", st.Type, v)
		}
		if err := checkRange(st, f); err != nil {
			return nil, err
		}
		return int(f), nil
	case Float:
		var f float64
		switch x := v.(type) {
		case int:
			f = float64(x)
		case float64:
			f = x
		case json.Number:
			g, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, fmt.Errorf("want %s, got %s", st.Type, x)
			}
			f = g
		default:
			return nil, fmt.Errorf("want %s, got %v", st.Type, describe(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("want a finite number, got %v", f)
		}
		if err := checkRange(st, f); err != nil {
			return nil, err
		}
		return f, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want %s, got %v", st.Type, describe(v))
		}
		return b, nil
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want %s, got %v", st.Type, describe(v))
		}
		if len(st.Choices) > 0 && !slices.Contains(st.Choices, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(st.Choices, ", "))
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown setting type %d", st.Type)
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	case map[string]any, []any:
		return "a JSON object or list"
	}
	return fmt.Sprint(v)
}

func checkRange(st Setting, f float64) error {
	if st.Min == 0 && st.Max == 0 {
		return nil
	}
	closing := "]"
	if st.MaxOpen {
		closing = ")"
	}
	if f < st.Min || f > st.Max || (st.MaxOpen && f == st.Max) {
		return fmt.Errorf("%s is outside [%s, %s%s", formatBound(f), formatBound(st.Min), formatBound(st.Max), closing)
	}
	return nil
}

// formatBound writes a number of a range without an exponent where it is
// short enough (2147483648, not 2.147483648e+09).
func formatBound(f float64) string {
	if math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// normalise returns a copy of s at path with its kind's canonical name,
// every setting converted and checked, defaults filled in and (unless
// allowMissing) every required setting present; layers recursively.
func normalise(s Spec, path string, depth int, count *int, allowMissing bool) (Spec, *Kind, error) {
	if depth > MaxSpecDepth {
		return s, nil, specErr(path, s.Type, "", "nested deeper than %d levels", MaxSpecDepth)
	}
	*count++
	if *count > MaxSpecLayers {
		return s, nil, specErr(path, s.Type, "", "more than %d layers", MaxSpecLayers)
	}
	if s.Type == "" {
		return s, nil, specErr(path, "", "type", "missing: name a layer kind (%s)", strings.Join(KindNames(), ", "))
	}
	registry.RLock()
	k, ok := registry.by[strings.ToLower(s.Type)]
	registry.RUnlock()
	if !ok {
		return s, nil, specErr(path, s.Type, "", "unknown layer kind (known: %s)", strings.Join(KindNames(), ", "))
	}
	out := Spec{Type: k.Name, Settings: map[string]any{}}
	for name := range s.Settings {
		if !slices.ContainsFunc(k.Settings, func(st Setting) bool { return st.Name == name }) {
			return s, k, specErr(path, k.Name, name, "unknown setting (%s)", settingList(k))
		}
	}
	for _, st := range k.Settings {
		v, ok := s.Settings[st.Name]
		if !ok || v == nil {
			if st.Default != nil {
				v = st.Default
			} else if st.Inferred || allowMissing {
				continue
			} else {
				return s, k, specErr(path, k.Name, st.Name, "missing (%s)", st.Type)
			}
		}
		cv, err := convertSetting(st, v)
		if err != nil {
			return s, k, specErr(path, k.Name, st.Name, "%v", err)
		}
		out.Settings[st.Name] = cv
	}
	if !k.Container && len(s.Layers) > 0 {
		return s, k, specErr(path, k.Name, "layers", "a %s holds no layers", k.Name)
	}
	for i, l := range s.Layers {
		nl, _, err := normalise(l, joinPath(path, strconv.Itoa(i)), depth+1, count, allowMissing)
		if err != nil {
			return s, k, err
		}
		out.Layers = append(out.Layers, nl)
	}
	return out, k, nil
}

func settingList(k *Kind) string {
	if len(k.Settings) == 0 {
		return k.Name + " has no settings"
	}
	var names []string
	for _, st := range k.Settings {
		names = append(names, st.Name)
	}
	return k.Name + " takes " + strings.Join(names, ", ")
}

// Resolve checks s for an input example of shape in (without the batch
// dimension), fills in defaults and the settings inferred from the input
// (a Linear's "in"), and returns the completed spec and the shape of one
// output example. in may be nil when every inferred setting is given:
// then only the settings are checked and out is nil. The error names the
// layer's path and the setting.
func Resolve(s Spec, in []int) (resolved Spec, out []int, err error) {
	n := 0
	ns, _, err := normalise(s, "", 0, &n, false)
	if err != nil {
		return s, nil, err
	}
	if in == nil {
		if err := checkComplete(ns, ""); err != nil {
			return s, nil, err
		}
		return ns, nil, nil
	}
	for _, d := range in {
		if d < 1 {
			return s, nil, fmt.Errorf("nn: spec: input shape %v has a dimension below 1", in)
		}
	}
	out, err = resolveShape(&ns, "", slices.Clone(in), nil)
	if err != nil {
		return s, nil, err
	}
	return ns, out, nil
}

// LayerShapes resolves s for an input example of shape in and returns the
// output shape of every leaf layer (not containers), in order: what a
// forward pass holds per example, for memory estimates.
func LayerShapes(s Spec, in []int) ([][]int, error) {
	rs, _, err := Resolve(s, in)
	if err != nil {
		return nil, err
	}
	var shapes [][]int
	_, err = resolveShape(&rs, "", slices.Clone(in), func(sh []int) { shapes = append(shapes, sh) })
	return shapes, err
}

// checkComplete reports an inferred setting that is still missing.
func checkComplete(s Spec, path string) error {
	k, _ := LookupKind(s.Type)
	for _, st := range k.Settings {
		if _, ok := s.Settings[st.Name]; !ok {
			return specErr(path, k.Name, st.Name, "missing (it is inferred from the input's shape: resolve the spec with one)")
		}
	}
	for i, l := range s.Layers {
		if err := checkComplete(l, joinPath(path, strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return nil
}

func resolveShape(s *Spec, path string, in []int, leaf func([]int)) ([]int, error) {
	k, _ := LookupKind(s.Type)
	if k.Container {
		cur := in
		for i := range s.Layers {
			var err error
			cur, err = resolveShape(&s.Layers[i], joinPath(path, strconv.Itoa(i)), cur, leaf)
			if err != nil {
				return nil, err
			}
		}
		in = cur
	}
	if k.Shape == nil {
		if leaf != nil && !k.Container {
			leaf(in)
		}
		return in, nil
	}
	out, err := k.Shape(s, in)
	if err != nil {
		var se *SpecError
		if errors.As(err, &se) {
			if se.Path == "" {
				se.Path = path
			}
			return nil, err
		}
		return nil, specErr(path, k.Name, "", "input of shape %v: %v", in, err)
	}
	if err := checkComplete(Spec{Type: s.Type, Settings: s.Settings}, path); err != nil {
		return nil, err
	}
	if leaf != nil && !k.Container {
		leaf(out)
	}
	return out, nil
}

// Size returns the number of parameter and buffer elements a module built
// from s holds, without building it. s must be complete (Resolve). A size
// that overflows is an error.
func Size(s Spec) (int64, error) {
	n := 0
	ns, _, err := normalise(s, "", 0, &n, false)
	if err != nil {
		return 0, err
	}
	if err := checkComplete(ns, ""); err != nil {
		return 0, err
	}
	return size(ns, "")
}

func size(s Spec, path string) (int64, error) {
	k, _ := LookupKind(s.Type)
	var total int64
	if k.Size != nil {
		n, err := k.Size(s)
		if err != nil {
			return 0, specErr(path, k.Name, "", "%v", err)
		}
		total = n
	}
	for i, l := range s.Layers {
		n, err := size(l, joinPath(path, strconv.Itoa(i)))
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-n {
			return 0, specErr(path, k.Name, "", "more than 2⁶³ parameters")
		}
		total += n
	}
	return total, nil
}

// Build builds the module s describes, with parameters of dtype dt
// initialised from rng (which Dropout layers keep drawing from). s must
// be complete: every setting given or defaulted, inferred ones included
// (Resolve fills them in). Nothing is allocated when s is invalid.
func Build(s Spec, dt tensor.DType, rng *rand.Rand) (Module, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: Build: unknown dtype %v", dt)
	}
	n := 0
	ns, _, err := normalise(s, "", 0, &n, false)
	if err != nil {
		return nil, err
	}
	if err := checkComplete(ns, ""); err != nil {
		return nil, err
	}
	if _, err := size(ns, ""); err != nil {
		return nil, err
	}
	return buildAt(ns, dt, rng, "")
}

func buildAt(s Spec, dt tensor.DType, rng *rand.Rand, path string) (Module, error) {
	k, ok := LookupKind(s.Type)
	if !ok {
		return nil, specErr(path, s.Type, "", "unknown layer kind")
	}
	m, err := k.Build(s, &Builder{DType: dt, RNG: rng, path: path})
	if err != nil {
		var se *SpecError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, specErr(path, k.Name, "", "%v", err)
	}
	return m, nil
}

// SpecOf returns the spec of a built module: Build(SpecOf(m)) gives a
// module of the same structure. Every module in the tree must implement
// Specer.
func SpecOf(m Module) (Spec, error) {
	sp, ok := m.(Specer)
	if !ok {
		return Spec{}, fmt.Errorf("nn: SpecOf: %T does not describe itself (it has no Spec method)", m)
	}
	return sp.Spec(), nil
}

// Int returns the int setting name (0 if absent).
func (s Spec) Int(name string) int { v, _ := s.Settings[name].(int); return v }

// Float returns the float setting name (0 if absent).
func (s Spec) Float(name string) float64 { v, _ := s.Settings[name].(float64); return v }

// Bool returns the bool setting name (false if absent).
func (s Spec) Bool(name string) bool { v, _ := s.Settings[name].(bool); return v }

// Str returns the string setting name ("" if absent).
func (s Spec) Str(name string) string { v, _ := s.Settings[name].(string); return v }

// With returns a copy of s with the setting name set to v.
func (s Spec) With(name string, v any) Spec {
	out := Spec{Type: s.Type, Settings: make(map[string]any, len(s.Settings)+1), Layers: s.Layers}
	for k, x := range s.Settings {
		out.Settings[k] = x
	}
	out.Settings[name] = v
	return out
}

// Seq returns the spec of a Sequential of layers.
func Seq(layers ...Spec) Spec { return Spec{Type: "Sequential", Layers: layers} }

// L returns the spec of one layer of kind typ with settings given as
// name, value pairs: L("Linear", "out", 10).
func L(typ string, kv ...any) Spec {
	s := Spec{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		if s.Settings == nil {
			s.Settings = map[string]any{}
		}
		s.Settings[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return s
}

// Equal reports whether a and b describe the same module (after both are
// normalised: kind names canonical, defaults filled in).
func Equal(a, b Spec) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// MarshalJSON writes the JSON form: "type" first, the settings in the
// kind's order (unknown kinds: sorted), then "layers".
func (s Spec) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	t, _ := json.Marshal(s.Type)
	buf.Write(t)
	var order []string
	if k, ok := LookupKind(s.Type); ok {
		for _, st := range k.Settings {
			if _, ok := s.Settings[st.Name]; ok {
				order = append(order, st.Name)
			}
		}
	}
	var rest []string
	for name := range s.Settings {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range append(order, rest...) {
		kb, _ := json.Marshal(name)
		vb, err := json.Marshal(s.Settings[name])
		if err != nil {
			return nil, fmt.Errorf("nn: spec setting %q: %v", name, err)
		}
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	if len(s.Layers) > 0 {
		buf.WriteString(`,"layers":[`)
		for i, l := range s.Layers {
			if i > 0 {
				buf.WriteByte(',')
			}
			lb, err := l.MarshalJSON()
			if err != nil {
				return nil, err
			}
			buf.Write(lb)
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the JSON form. Settings are checked and converted
// to their kind's types, defaults filled in (inferred settings may be
// left out); an unknown kind or setting is an error naming the layer.
func (s *Spec) UnmarshalJSON(b []byte) error {
	raw, err := decodeSpecJSON(b, "", 0)
	if err != nil {
		return err
	}
	n := 0
	ns, _, err := normalise(raw, "", 0, &n, false)
	if err != nil {
		return err
	}
	*s = ns
	return nil
}

// decodeSpecJSON reads the raw tree, with settings as json.Number, bool or
// string, without checking them against the kinds.
func decodeSpecJSON(b []byte, path string, depth int) (Spec, error) {
	if depth > MaxSpecDepth {
		return Spec{}, specErr(path, "", "", "nested deeper than %d levels", MaxSpecDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return Spec{}, specErr(path, "", "", "not a JSON object: %v", err)
	}
	if obj == nil {
		return Spec{}, specErr(path, "", "", "null instead of a layer")
	}
	var s Spec
	if t, ok := obj["type"]; ok {
		if err := json.Unmarshal(t, &s.Type); err != nil {
			return s, specErr(path, "", "type", "want a string, got %s", clip(t))
		}
	}
	for name, v := range obj {
		switch name {
		case "type":
		case "layers":
			var layers []json.RawMessage
			if err := json.Unmarshal(v, &layers); err != nil {
				return s, specErr(path, s.Type, "layers", "want a list of layers, got %s", clip(v))
			}
			if len(layers) > MaxSpecLayers {
				return s, specErr(path, s.Type, "layers", "more than %d layers", MaxSpecLayers)
			}
			for i, l := range layers {
				ls, err := decodeSpecJSON(l, joinPath(path, strconv.Itoa(i)), depth+1)
				if err != nil {
					return s, err
				}
				s.Layers = append(s.Layers, ls)
			}
		default:
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			var x any
			if err := d.Decode(&x); err != nil {
				return s, specErr(path, s.Type, name, "%v", err)
			}
			if s.Settings == nil {
				s.Settings = map[string]any{}
			}
			s.Settings[name] = x
		}
	}
	return s, nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// ParseSpec reads a spec in either form: JSON when text starts with "{",
// the text form otherwise, or the name of a preset architecture (see
// PresetNames: "lenet5"). Settings are checked; inferred ones may be
// missing (Resolve fills them in).
func ParseSpec(text string) (Spec, error) {
	t := strings.TrimSpace(text)
	if p, _, ok := Preset(t); ok {
		t = p
	}
	if strings.HasPrefix(t, "{") {
		var s Spec
		err := json.Unmarshal([]byte(t), &s)
		return s, err
	}
	return ParseText(t)
}
