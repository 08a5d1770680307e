package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Decode(b)
		_, _, rerr := Read(bytes.NewReader(b))
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode error %v but Read error %v", err, rerr)
		}
		ReadOptions{ToFloat32: true}.Decode(b) // must not panic
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
