package nn_test

import (
	"encoding/json"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// FuzzParseSpec feeds arbitrary text to the spec parser (both forms). It
// must return a spec or an error, never panic; a spec that resolves for a
// [2, 3] input (or a [2, 6, 6] image) round-trips through both forms, and a small one builds and
// runs.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		everyKind,
		"linear(512)-relu-dropout(0.2)-linear(10)",
		`{"type":"Sequential","layers":[{"type":"Linear","in":784,"out":512},{"type":"ReLU"}]}`,
		`{"type":"Sequential","layers":[{"type":"Flatten","start_dim":1},{"type":"GELU","approximate":"tanh"}]}`,
		"seq(linear(3)-seq(tanh))-linear(2, bias=false, init=\"he-normal\")",
		"flatten(2, -1)-linear(1e3)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := nn.ParseSpec(text)
		if err != nil {
			return
		}
		// Vector examples first, then images (conv, pooling, BatchNorm2d).
		in := []int{2, 3}
		rs, _, err := nn.Resolve(s, in)
		if err != nil {
			in = everyKindInput
			if rs, _, err = nn.Resolve(s, in); err != nil {
				return
			}
		}
		again, err := nn.ParseText(rs.Text())
		if err != nil {
			t.Fatalf("text form %q of a valid spec does not parse: %v", rs.Text(), err)
		}
		if again, _, err = nn.Resolve(again, in); err != nil || !nn.Equal(rs, again) {
			t.Fatalf("text round trip of %q: %v", rs.Text(), err)
		}
		js, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		var back nn.Spec
		if err := json.Unmarshal(js, &back); err != nil || !nn.Equal(rs, back) {
			t.Fatalf("JSON round trip of %s: %v", js, err)
		}
		if n, err := nn.Size(rs); err != nil || n > 1<<16 {
			return
		}
		m, err := nn.Build(rs, tensor.Float32, tensor.NewRand(1))
		if err != nil {
			t.Fatalf("Build of a resolved spec %s: %v", js, err)
		}
		if err := tensor.Try(func() { m.Forward(ag.Const(tensor.Zeros(tensor.Float32, append([]int{2}, in...)...))) }); err != nil {
			t.Fatalf("Forward of %s: %v", js, err)
		}
	})
}
