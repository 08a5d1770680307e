package safetensors

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// FuzzDecode checks that Decode never panics, that its errors start with
// "safetensors:", that Read agrees with it, and that whatever it accepts
// survives a Write/Decode round trip bit for bit.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, c := range malformedCases() {
		f.Add(c.b)
	}
	ts, meta := goWritten()
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"__metadata__":null}`, nil))
	f.Add(file(`{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0x3c, 1, 0x80}))
	f.Add(file(`{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, []byte{0x01, 0x7c})) // a signalling NaN

	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Decode(b)
		_, _, rerr := Read(bytes.NewReader(b))
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode error %v but Read error %v", err, rerr)
		}
		// The conversions must not panic, and must agree: the float32 read
		// is the float64 one rounded.
		ts32, _, err32 := As(tensor.Float32).Decode(b)
		ts64, _, err64 := As(tensor.Float64).Decode(b)
		if (err32 == nil) != (err64 == nil) {
			t.Fatalf("As(Float32) error %v but As(Float64) error %v", err32, err64)
		}
		for name, t64 := range ts64 {
			v32, v64 := ts32[name].Values(), t64.Values()
			for i := range v64 {
				// Signalling NaNs may come out quiet: NaN is NaN.
				if r := float64(float32(v64[i])); r != v32[i] && !(math.IsNaN(r) && math.IsNaN(v32[i])) {
					t.Fatalf("tensor %q [%d]: As(Float32) gives %v, As(Float64) %v", name, i, v32[i], v64[i])
				}
			}
		}
		// The header alone is accepted exactly when some conversion reads
		// the file, or when only the dtype is refused, and describes
		// what that conversion returns.
		hs, _, herr := readHeader(bytes.NewReader(b), int64(len(b)))
		if herr != nil && err64 == nil {
			t.Fatalf("ReadHeader error %v but As(Float64) reads the file", herr)
		}
		if herr == nil && err64 != nil && !errors.Is(err64, ErrUnsupportedDType) {
			t.Fatalf("ReadHeader accepts what As(Float64) refuses: %v", err64)
		}
		if err64 == nil {
			for name, t64 := range ts64 {
				if h, ok := hs[name]; !ok || !slices.Equal(h.Shape, t64.Shape()) {
					t.Fatalf("tensor %q: header %+v, read shape %v", name, h, t64.Shape())
				}
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error %q does not start with safetensors:", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, ts, meta); err != nil {
			t.Fatalf("Write of decoded tensors: %v", err)
		}
		ts2, meta2, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("Decode of written tensors: %v", err)
		}
		sameTensors(t, ts2, ts)
		if !equalMeta(meta, meta2) {
			t.Fatalf("metadata %v became %v", meta, meta2)
		}
	})
}
