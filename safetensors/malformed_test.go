package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// file builds a safetensors file from a header (unpadded) and a data
// buffer.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// withLen is b with its header length replaced by n.
func withLen(b []byte, n uint64) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint64(c, n)
	return c
}

const f32x2 = `{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`

type malformed struct {
	name   string
	b      []byte
	want   string // in the error message
	tensor string // the tensor the error names, if any
	dtype  bool   // errors.Is(err, ErrUnsupportedDType)
}

func malformedCases() []malformed {
	d8 := make([]byte, 8)
	valid := file(f32x2, d8)
	entry := func(fields string) string { return `{"x":{` + fields + `}}` }
	return []malformed{
		{name: "empty input", b: nil, want: "too short"},
		{name: "7 bytes", b: []byte{8, 0, 0, 0, 0, 0, 0}, want: "too short"},
		{name: "header length past end", b: withLen(valid, uint64(len(f32x2)+9)), want: "runs past the end"},
		{name: "header length over limit", b: withLen(valid, MaxHeaderSize+1), want: "larger than the limit"},
		{name: "header length 2^64-1", b: withLen(valid, 1<<64-1), want: "larger than the limit"},
		{name: "truncated header", b: valid[:20], want: "runs past the end"},
		{name: "truncated data", b: valid[:len(valid)-3], want: "run past the end", tensor: "x"},
		{name: "zero header", b: file("", nil), want: "does not start with '{'"},
		{name: "leading space", b: file(" {}", nil), want: "does not start with '{'"},
		{name: "array header", b: file("[]", nil), want: "does not start with '{'"},
		{name: "bad JSON", b: file(`{"x":`, nil), want: "not valid JSON"},
		{name: "bad JSON inside", b: file(`{"x":{"dtype":F32}}`, nil), want: "not valid JSON"},
		{name: "trailing JSON", b: file(`{} {}`, nil), want: "not valid JSON"},
		{name: "trailing garbage", b: file(`{}x`, nil), want: "not valid JSON"},
		{name: "bad UTF-8", b: file("{\"\xff\":1}", nil), want: "UTF-8"},
		{name: "entry not object", b: file(`{"x":[1]}`, nil), want: "not a JSON object", tensor: "x"},
		{name: "missing dtype", b: file(entry(`"shape":[],"data_offsets":[0,0]`), nil), want: `no "dtype"`, tensor: "x"},
		{name: "missing shape", b: file(entry(`"dtype":"F32","data_offsets":[0,0]`), nil), want: `no "shape"`, tensor: "x"},
		{name: "missing offsets", b: file(entry(`"dtype":"F32","shape":[]`), nil), want: `no "data_offsets"`, tensor: "x"},
		{name: "duplicate field", b: file(entry(`"dtype":"F32","dtype":"F64","shape":[0],"data_offsets":[0,0]`), nil), want: `"dtype" appears twice`, tensor: "x"},
		{name: "dtype not string", b: file(entry(`"dtype":4,"shape":[0],"data_offsets":[0,0]`), nil), want: "not a string", tensor: "x"},
		{name: "unknown dtype", b: file(entry(`"dtype":"F33","shape":[0],"data_offsets":[0,0]`), nil), want: `unknown dtype "F33"`, tensor: "x"},
		{name: "lowercase dtype", b: file(entry(`"dtype":"f32","shape":[0],"data_offsets":[0,0]`), nil), want: `unknown dtype "f32"`, tensor: "x"},
		{name: "F16", b: file(entry(`"dtype":"F16","shape":[1],"data_offsets":[0,2]`), make([]byte, 2)), want: "F16 is read only with a conversion to float32 or float64", tensor: "x", dtype: true},
		{name: "BF16", b: file(entry(`"dtype":"BF16","shape":[1],"data_offsets":[0,2]`), make([]byte, 2)), want: "BF16", tensor: "x", dtype: true},
		{name: "I64", b: file(entry(`"dtype":"I64","shape":[1],"data_offsets":[0,8]`), d8), want: "dtype I64", tensor: "x", dtype: true},
		{name: "BOOL", b: file(entry(`"dtype":"BOOL","shape":[1],"data_offsets":[0,1]`), d8[:1]), want: "dtype BOOL", tensor: "x", dtype: true},
		{name: "negative dim", b: file(entry(`"dtype":"F32","shape":[-1],"data_offsets":[0,0]`), nil), want: "not a non-negative integer", tensor: "x"},
		{name: "fractional dim", b: file(entry(`"dtype":"F32","shape":[1.5],"data_offsets":[0,6]`), nil), want: "not a non-negative integer", tensor: "x"},
		{name: "exponent dim", b: file(entry(`"dtype":"F32","shape":[1e0],"data_offsets":[0,4]`), nil), want: "not a non-negative integer", tensor: "x"},
		{name: "string dim", b: file(entry(`"dtype":"F32","shape":["2"],"data_offsets":[0,8]`), d8), want: "not a non-negative integer", tensor: "x"},
		{name: "shape null", b: file(entry(`"dtype":"F32","shape":null,"data_offsets":[0,4]`), d8[:4]), want: "not an array", tensor: "x"},
		{name: "shape object", b: file(entry(`"dtype":"F32","shape":{},"data_offsets":[0,4]`), d8[:4]), want: "not an array", tensor: "x"},
		{name: "dim beyond uint64", b: file(entry(`"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,0]`), nil), want: "fits in 64 bits", tensor: "x"},
		{name: "element count overflows", b: file(entry(`"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]`), nil), want: "too many elements", tensor: "x"},
		{name: "byte count overflows", b: file(entry(`"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]`), nil), want: "needs", tensor: "x"},
		{name: "shape disagrees", b: file(entry(`"dtype":"F32","shape":[3],"data_offsets":[0,8]`), d8), want: "shape [3] of F32 needs 3×4 bytes but data_offsets [0, 8] hold 8", tensor: "x"},
		{name: "offsets reversed", b: file(entry(`"dtype":"F32","shape":[0],"data_offsets":[8,0]`), d8), want: "end before they begin", tensor: "x"},
		{name: "three offsets", b: file(entry(`"dtype":"F32","shape":[2],"data_offsets":[0,8,8]`), d8), want: "has 3 numbers, not 2", tensor: "x"},
		{name: "huge offsets", b: file(entry(`"dtype":"F32","shape":[2],"data_offsets":[18446744073709551607,18446744073709551615]`), d8), want: "unused", tensor: "x"},
		{name: "offsets past buffer", b: file(entry(`"dtype":"F32","shape":[4],"data_offsets":[0,16]`), d8), want: "run past the end of the 8-byte data buffer", tensor: "x"},
		{name: "first not at 0", b: file(entry(`"dtype":"F32","shape":[1],"data_offsets":[4,8]`), d8), want: "leave the first 4 bytes", tensor: "x"},
		{
			name: "overlap",
			b:    file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
			want: `overlap those of tensor "a" [0, 8]`, tensor: "b",
		},
		{
			name: "same offsets",
			b:    file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d8),
			want: "overlap", tensor: "b",
		},
		{
			name: "hole",
			b:    file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
			want: `leave a hole of 4 bytes after tensor "a"`, tensor: "b",
		},
		{
			name: "zero-size tensor inside another",
			b:    file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, d8),
			want: "overlap", tensor: "z",
		},
		{name: "trailing bytes", b: file(f32x2, make([]byte, 9)), want: "1 bytes after the last tensor"},
		{name: "data with no tensors", b: file(`{}`, d8), want: "8 bytes after the last tensor"},
		{name: "duplicate tensor", b: file(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), want: "appears twice", tensor: "x"},
		{name: "duplicate metadata", b: file(`{"__metadata__":{},"__metadata__":{}}`, nil), want: "two __metadata__"},
		{name: "duplicate metadata key", b: file(`{"__metadata__":{"k":"1","k":"2"}}`, nil), want: `key "k" twice`},
		{name: "metadata number", b: file(`{"__metadata__":{"k":1}}`, nil), want: `value for key "k" is 1, not a string`},
		{name: "metadata null value", b: file(`{"__metadata__":{"k":null}}`, nil), want: "not a string"},
		{name: "metadata nested", b: file(`{"__metadata__":{"k":{"a":"b"}}}`, nil), want: "not a string"},
		{name: "metadata array", b: file(`{"__metadata__":["a"]}`, nil), want: "not a JSON object"},
		{name: "metadata string", b: file(`{"__metadata__":"pt"}`, nil), want: "not a JSON object"},
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range malformedCases() {
		t.Run(c.name, func(t *testing.T) {
			ts, meta, err := Decode(c.b)
			if err == nil {
				t.Fatalf("Decode succeeded: %v %v", ts, meta)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") || !strings.Contains(msg, c.want) {
				t.Errorf("Decode error %q, want one containing %q", msg, c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if c.tensor != "" && (!e.HasTensor || e.Tensor != c.tensor || !strings.Contains(msg, `tensor "`+c.tensor+`"`)) {
				t.Errorf("error %q does not name tensor %q", msg, c.tensor)
			}
			if errors.Is(err, ErrUnsupportedDType) != c.dtype {
				t.Errorf("errors.Is(err, ErrUnsupportedDType) = %v, want %v", !c.dtype, c.dtype)
			}

			// The other readers fail too (their messages may differ for
			// truncation, which a stream notices later).
			for name, r := range map[string]func() error{
				"Read": func() error { _, _, err := Read(bytes.NewReader(c.b)); return err },
				"Read(OneByteReader)": func() error {
					_, _, err := Read(iotest.OneByteReader(bytes.NewReader(c.b)))
					return err
				},
				"ReadFile": func() error {
					p := filepath.Join(t.TempDir(), "bad.safetensors")
					if err := os.WriteFile(p, c.b, 0o644); err != nil {
						t.Fatal(err)
					}
					_, _, err := ReadFile(p)
					if err != nil && !strings.Contains(err.Error(), p) {
						t.Errorf("ReadFile error %q does not name the file", err)
					}
					return err
				},
				"ToFloat32": func() error {
					if c.dtype { // ToFloat32 accepts F16 and BF16
						return errors.New("skip")
					}
					_, _, err := ReadOptions{ToFloat32: true}.Decode(c.b)
					return err
				},
				"ToFloat64": func() error {
					if c.dtype { // ToFloat64 accepts F16 and BF16
						return errors.New("skip")
					}
					_, _, err := ReadOptions{ToFloat64: true}.Decode(c.b)
					return err
				},
			} {
				err := r()
				if err == nil {
					t.Errorf("%s succeeded", name)
				} else if !strings.HasPrefix(err.Error(), "safetensors: ") && err.Error() != "skip" {
					t.Errorf("%s error %q does not start with safetensors:", name, err)
				}
			}
		})
	}
}

// TestStreamAllocation checks that a header claiming huge lengths does not
// make Read allocate them before the data arrives.
func TestStreamAllocation(t *testing.T) {
	// 4 GiB of F32 claimed, 8 bytes delivered.
	b := file(`{"x":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}`, make([]byte, 8))
	var before, after runtimeMem
	before.read()
	if _, _, err := Read(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), `tensor "x": file ends 8 bytes into`) {
		t.Errorf("Read: %v", err)
	}
	after.read()
	if d := after.total - before.total; d > 16<<20 {
		t.Errorf("Read of a truncated 4 GiB claim allocated %d bytes", d)
	}
	// A header length of 99 MB with 10 bytes behind it.
	b = withLen(file(`{}`, nil), MaxHeaderSize-1)
	before.read()
	if _, _, err := Read(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Read: %v", err)
	}
	after.read()
	if d := after.total - before.total; d > 16<<20 {
		t.Errorf("Read of a truncated 99 MB header allocated %d bytes", d)
	}
}

func TestAccepted(t *testing.T) {
	cases := []struct {
		name, header string
		data         []byte
		names        []string
	}{
		{"space padding", `{}      `, nil, nil},
		{"other whitespace padding", "{}\n\t\r ", nil, nil},
		{"null metadata", `{"__metadata__":null}`, nil, nil},
		{"unknown fields", `{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":[1,{}]},"__metadata__":{}}`, make([]byte, 4), []string{"x"}},
		{"offset order differs from header order", `{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F64","shape":[],"data_offsets":[8,16]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 16), []string{"a", "b", "c"}},
		{"zero-size tensors at one offset", `{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F64","shape":[3,0],"data_offsets":[4,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4), []string{"a", "b", "c"}},
		{"huge zero-size shape", `{"z":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}`, nil, []string{"z"}},
		{"escaped name", `{"a\u00e9\"":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4), []string{"aé\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := file(c.header, c.data)
			for name, read := range map[string]func() (int, error){
				"Decode": func() (int, error) { ts, _, err := Decode(b); return len(keysOrNil(ts, c.names)), err },
				"Read":   func() (int, error) { ts, _, err := Read(bytes.NewReader(b)); return len(keysOrNil(ts, c.names)), err },
			} {
				n, err := read()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if n != len(c.names) {
					t.Errorf("%s: names differ from %v", name, c.names)
				}
			}
		})
	}
}

// keysOrNil returns the names of ts if they equal want, else nil.
func keysOrNil[V any](ts map[string]V, want []string) []string {
	k := keys(ts)
	if len(k) != len(want) {
		return nil
	}
	for i := range k {
		if k[i] != want[i] {
			return nil
		}
	}
	return k
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
