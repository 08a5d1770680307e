package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/nabla-go/nabla/tensor"
)

// sameTensors fails t unless got and want hold the same names, dtypes,
// shapes and element bits (so NaN payloads and -0 count).
func sameTensors(t *testing.T, got, want map[string]*tensor.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors %v, want %d %v", len(got), keys(got), len(want), keys(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("tensor %q missing; got %v", name, keys(got))
		}
		if msg := diffTensor(g, w); msg != "" {
			t.Errorf("tensor %q: %s", name, msg)
		}
	}
}

func diffTensor(g, w *tensor.Tensor) string {
	if g.DType() != w.DType() || !slices.Equal(g.Shape(), w.Shape()) {
		return "got " + fmt.Sprint(g.DType(), g.Shape(), ", want ", w.DType(), w.Shape())
	}
	if !g.IsContiguous() {
		return "result is not contiguous"
	}
	if g.DType() == tensor.Float64 {
		a, b := g.Float64s(), w.Float64s()
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return "values differ: got " + g.String() + ", want " + w.String()
			}
		}
		return ""
	}
	a, b := g.Float32s(), w.Float32s()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return "values differ: got " + g.String() + ", want " + w.String()
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func encode(t *testing.T, ts map[string]*tensor.Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sample is a set of tensors that covers both dtypes, a scalar, zero-size
// tensors and awkward float values.
func sample() map[string]*tensor.Tensor {
	rng := tensor.NewRand(7)
	nan32 := math.Float32frombits(0x7fc00123) // a NaN with a payload
	return map[string]*tensor.Tensor{
		"w32":        tensor.Normal(rng, tensor.Float32, 0, 1, 3, 4),
		"w64":        tensor.Normal(rng, tensor.Float64, 0, 1, 2, 3, 2),
		"scalar32":   tensor.FromFloat32([]float32{-7.5}, []int{}...),
		"scalar64":   tensor.FromFloat64([]float64{math.Pi}, []int{}...),
		"empty":      tensor.FromFloat32(nil, 0),
		"empty3d":    tensor.FromFloat64(nil, 2, 0, 3),
		"special32":  tensor.FromFloat32([]float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), nan32, math.SmallestNonzeroFloat32, math.MaxFloat32}),
		"special64":  tensor.FromFloat64([]float64{math.NaN(), math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.MaxFloat64}),
		"":           tensor.FromFloat32([]float32{1}), // the empty name is legal
		"unicode é✓": tensor.FromFloat32([]float32{2, 3}),
	}
}

func TestRoundTrip(t *testing.T) {
	ts := sample()
	meta := map[string]string{"format": "pt", "quote\"key": "line\nbreak", "empty": ""}
	b := encode(t, ts, meta)

	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	check := func(name string, got map[string]*tensor.Tensor, gotMeta map[string]string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameTensors(t, got, ts)
		if !equalMeta(gotMeta, meta) {
			t.Errorf("%s: metadata %v, want %v", name, gotMeta, meta)
		}
	}
	got, gotMeta, err := Decode(b)
	check("Decode", got, gotMeta, err)
	got, gotMeta, err = Read(bytes.NewReader(b))
	check("Read", got, gotMeta, err)
	got, gotMeta, err = Read(iotest.HalfReader(bytes.NewReader(b)))
	check("Read(HalfReader)", got, gotMeta, err)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err = ReadFile(path)
	check("ReadFile", got, gotMeta, err)
	if fb, _ := os.ReadFile(path); !bytes.Equal(fb, b) {
		t.Errorf("WriteFile wrote different bytes from Write")
	}

	// The decoded tensors share nothing with the input.
	got, _, _ = Decode(b)
	for i := range b {
		b[i] = 0xff
	}
	sameTensors(t, got, ts)
}

func equalMeta(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNoMetadata(t *testing.T) {
	for _, meta := range []map[string]string{nil, {}} {
		b := encode(t, map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 2})}, meta)
		if bytes.Contains(b, []byte(metadataKey)) {
			t.Errorf("empty metadata was written: %q", b)
		}
		_, got, err := Decode(b)
		if err != nil || got != nil {
			t.Errorf("Decode: metadata %v, err %v; want nil, nil", got, err)
		}
	}
}

func TestEmptyFile(t *testing.T) {
	b := encode(t, nil, nil)
	want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "
	if string(b) != want {
		t.Errorf("Write(nil, nil) = %q, want %q", b, want)
	}
	ts, meta, err := Decode(b)
	if err != nil || ts == nil || len(ts) != 0 || meta != nil {
		t.Errorf("Decode = %v, %v, %v; want an empty map, nil, nil", ts, meta, err)
	}
}

func TestReproducible(t *testing.T) {
	a := encode(t, sample(), map[string]string{"b": "2", "a": "1", "c": "3"})
	for range 5 {
		// Fresh maps: Go randomises their iteration order.
		b := encode(t, sample(), map[string]string{"c": "3", "a": "1", "b": "2"})
		if !bytes.Equal(a, b) {
			t.Fatal("two writes of the same tensors differ")
		}
	}
	// Sorted names, metadata first, and the data in the same order.
	h := string(a[8 : 8+binary.LittleEndian.Uint64(a)])
	order := []string{`"__metadata__":{"a":"1","b":"2","c":"3"}`, `"":`, `"empty":`, `"empty3d":`, `"scalar32":`, `"scalar64":`, `"special32":`, `"special64":`, `"unicode é✓":`, `"w32":`, `"w64":`}
	last := -1
	for _, s := range order {
		i := strings.Index(h, s)
		if i <= last {
			t.Fatalf("header %s: %s is not after the previous entry", h, s)
		}
		last = i
	}
}

// TestAlignment checks that Write places every tensor at a multiple of
// its element size from the start of the file.
func TestAlignment(t *testing.T) {
	ts := map[string]*tensor.Tensor{
		"a32": tensor.FromFloat32([]float32{1, 2, 3}), // odd: 12 bytes
		"b64": tensor.FromFloat64([]float64{4}),
		"c32": tensor.FromFloat32([]float32{5}),
		"d64": tensor.FromFloat64([]float64{6, 7}),
	}
	b := encode(t, ts, map[string]string{"x": "odd length"})
	n := binary.LittleEndian.Uint64(b)
	var header map[string]struct {
		DType       string    `json:"dtype"`
		DataOffsets [2]uint64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	for name, e := range header {
		size := map[string]uint64{"F32": 4, "F64": 8}[e.DType]
		if name != metadataKey && (8+n+e.DataOffsets[0])%size != 0 {
			t.Errorf("tensor %q (%s) starts at file offset %d", name, e.DType, 8+n+e.DataOffsets[0])
		}
	}
}

func TestWriteNonContiguous(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	xt := x.T() // a view, [3 2]
	got, _, err := Decode(encode(t, map[string]*tensor.Tensor{"xt": xt}, nil))
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, map[string]*tensor.Tensor{"xt": xt.Clone()})
}

func TestWriteErrors(t *testing.T) {
	one := tensor.FromFloat32([]float32{1})
	cases := []struct {
		name string
		ts   map[string]*tensor.Tensor
		meta map[string]string
		want string
	}{
		{"nil tensor", map[string]*tensor.Tensor{"x": nil}, nil, `tensor "x": tensor is nil`},
		{"reserved name", map[string]*tensor.Tensor{metadataKey: one}, nil, "reserved"},
		{"bad UTF-8 name", map[string]*tensor.Tensor{"\xff": one}, nil, "not valid UTF-8"},
		{"bad UTF-8 metadata", map[string]*tensor.Tensor{"x": one}, map[string]string{"k": "\xff"}, "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, c.ts, c.meta)
			if err == nil || !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Write error %v, want one containing %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
	// A failing writer's error is kept as the cause.
	boom := errors.New("disk on fire")
	err := Write(failWriter{boom}, sample(), nil)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("Write to a failing writer: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	old := map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 2})}
	if err := WriteFile(path, old, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %v, %v; want mode 0644", fi, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)

	// A failed write leaves the old file and no temporary file.
	err := WriteFile(path, map[string]*tensor.Tensor{"x": nil}, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFile with a nil tensor: %v, want an error naming the path", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, oldBytes) {
		t.Fatal("failed WriteFile changed the file")
	}
	// Replacing works and keeps the permissions.
	repl := map[string]*tensor.Tensor{"y": tensor.FromFloat64([]float64{3}, 1, 1)}
	if err := WriteFile(path, repl, map[string]string{"step": "2"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, repl)
	if meta["step"] != "2" {
		t.Errorf("metadata %v", meta)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file has mode %v, want 0600 kept", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the checkpoint", names)
	}

	// A directory that does not exist.
	err = WriteFile(filepath.Join(dir, "missing", "x.safetensors"), old, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
	_, _, err = ReadFile(filepath.Join(dir, "missing.safetensors"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}
