package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// idxBytes builds an IDX file by hand: magic 00 00 typ ndims, big-endian
// dims, then data.
func idxBytes(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func TestReadIDXRoundTrip(t *testing.T) {
	data := make([]byte, 2*3*4)
	for i := range data {
		data[i] = byte(7 * i)
	}
	file := idxBytes(0x08, []uint32{2, 3, 4}, data)
	// The header as MNIST's image file has it: 00 00 08 03.
	if !bytes.Equal(file[:4], []byte{0, 0, 8, 3}) {
		t.Fatalf("magic % x", file[:4])
	}
	for name, r := range map[string]io.Reader{
		"whole":       bytes.NewReader(file),
		"byte a time": iotest.OneByteReader(bytes.NewReader(file)),
	} {
		shape, got, err := ReadIDX(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !equalInts(shape, []int{2, 3, 4}) || !bytes.Equal(got, data) {
			t.Errorf("%s: shape %v data %v", name, shape, got)
		}
	}
	// Through gzip, as the MNIST files come.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(file)
	w.Close()
	zr, _ := gzip.NewReader(&gz)
	if shape, got, err := ReadIDX(zr); err != nil || !equalInts(shape, []int{2, 3, 4}) || !bytes.Equal(got, data) {
		t.Errorf("gzip: %v %v", shape, err)
	}
	// A zero dimension is an empty array, not an error.
	if shape, got, err := ReadIDX(bytes.NewReader(idxBytes(8, []uint32{0, 28, 28}, nil))); err != nil || len(got) != 0 || !equalInts(shape, []int{0, 28, 28}) {
		t.Errorf("empty array: %v %v %v", shape, got, err)
	}
	// A 1-D labels file.
	if shape, got, err := ReadIDX(bytes.NewReader(idxBytes(8, []uint32{3}, []byte{5, 0, 9}))); err != nil || !equalInts(shape, []int{3}) || !bytes.Equal(got, []byte{5, 0, 9}) {
		t.Errorf("labels: %v %v %v", shape, got, err)
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes(8, []uint32{2, 2}, []byte{1, 2, 3, 4})
	for _, tc := range []struct {
		name, in string
		want     string
		eof      bool // wraps io.ErrUnexpectedEOF
	}{
		{"empty", "", "truncated magic", true},
		{"short magic", "\x00\x00\x08", "truncated magic", true},
		{"bad magic", "\x00\x01\x08\x01\x00\x00\x00\x00", "bad magic", false},
		{"bad magic 2", "\x01\x00\x08\x01\x00\x00\x00\x00", "bad magic", false},
		{"int32 type", string(idxBytes(0x0c, []uint32{1}, []byte{0, 0, 0, 1})), "element type 0x0c", false},
		{"float type", string(idxBytes(0x0d, []uint32{1}, []byte{0, 0, 0, 0})), "element type 0x0d", false},
		{"signed byte", string(idxBytes(0x09, []uint32{1}, []byte{0})), "element type 0x09", false},
		{"no dims", "\x00\x00\x08\x00", "no dimensions", false},
		{"short dims", string(idxBytes(8, []uint32{2, 2}, nil)[:9]), "truncated dimensions", true},
		{"2^40 elements", string(idxBytes(8, []uint32{1 << 20, 1 << 20}, nil)), "more than", false},
		{"2^32-1 squared", string(idxBytes(8, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil)), "more than", false},
		{"just over the cap", string(idxBytes(8, []uint32{MaxIDXElements + 1}, nil)), "more than", false},
		{"truncated data", string(good[:len(good)-1]), "truncated data", true},
		{"no data", string(good[:12]), "truncated data", true},
		{"trailing data", string(good) + "\x00", "trailing data", false},
	} {
		shape, data, err := ReadIDX(strings.NewReader(tc.in))
		if err == nil {
			t.Errorf("%s: no error (shape %v, %d bytes)", tc.name, shape, len(data))
			continue
		}
		if shape != nil || data != nil {
			t.Errorf("%s: data returned with the error", tc.name)
		}
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrIDX) {
			t.Errorf("%s: error %q, want it to contain %q and wrap ErrIDX", tc.name, err, tc.want)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) != tc.eof {
			t.Errorf("%s: errors.Is(err, io.ErrUnexpectedEOF) = %v", tc.name, !tc.eof)
		}
	}

	// A reader's own error is passed through, not called malformed data.
	boom := errors.New("disk on fire")
	_, _, err := ReadIDX(io.MultiReader(bytes.NewReader(good[:10]), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, ErrIDX) {
		t.Errorf("reader error: %v", err)
	}
	_, _, err = ReadIDX(io.MultiReader(bytes.NewReader(good), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Errorf("reader error after the data: %v", err)
	}
	// A corrupted gzip stream is caught at its end (the CRC), because
	// ReadIDX reads to EOF.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(good)
	w.Close()
	b := gz.Bytes()
	b[len(b)-8] ^= 0xff // CRC-32
	zr, _ := gzip.NewReader(bytes.NewReader(b))
	if _, _, err := ReadIDX(zr); !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("bad gzip CRC: %v", err)
	}
}

// A header that lies about a huge (but allowed) size must not make ReadIDX
// allocate that size up front.
func TestReadIDXLyingHeaderAllocation(t *testing.T) {
	in := idxBytes(8, []uint32{MaxIDXElements}, []byte{1, 2, 3})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadIDX(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("a 15-byte input claiming %d elements allocated %d bytes", MaxIDXElements, grew)
	}
}

// readIDX given the input's length reads the elements into one buffer of
// their size when the length agrees with the header, and otherwise as
// ReadIDX does; either way the result and the errors are ReadIDX's.
func TestReadIDXKnownLength(t *testing.T) {
	good := idxBytes(8, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	for _, tc := range []struct {
		name  string
		in    []byte
		total int64
		want  string // the error; "" for success, with the shape of good
	}{
		{"exact", good, int64(len(good)), ""},
		{"unknown", good, -1, ""},
		{"too long a length", good, int64(len(good)) + 5, ""},
		{"too short a length", good, 3, ""},
		{"truncated, length from the header", good[:len(good)-2], int64(len(good)), "truncated data"},
		{"trailing byte, length from the header", append(slices.Clone(good), 9), int64(len(good)), "trailing data"},
	} {
		shape, data, err := readIDX(bytes.NewReader(tc.in), tc.total)
		if tc.want == "" {
			if err != nil || !equalInts(shape, []int{2, 3}) || !bytes.Equal(data, good[12:]) {
				t.Errorf("%s: shape %v, data %v, %v", tc.name, shape, data, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrIDX) || shape != nil || data != nil {
			t.Errorf("%s: %v (want %q), shape %v", tc.name, err, tc.want, shape)
		}
	}
	// An empty array with its exact length.
	if shape, data, err := readIDX(bytes.NewReader(idxBytes(8, []uint32{0, 5}, nil)), 12); err != nil || len(data) != 0 || !equalInts(shape, []int{0, 5}) {
		t.Errorf("empty array: %v %v %v", shape, data, err)
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(8, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes(8, []uint32{3}, []byte{7, 8, 9}))
	f.Add(idxBytes(8, []uint32{1, 2, 2}, []byte{0, 255, 128, 1}))
	f.Add(idxBytes(8, []uint32{0}, nil))
	f.Add(idxBytes(8, []uint32{1 << 20, 1 << 20}, nil))
	f.Add(idxBytes(0x0d, []uint32{1}, []byte{0, 0, 0, 0}))
	f.Add([]byte{0, 0, 8})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		shape, data, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if shape != nil || data != nil {
				t.Fatal("data returned with an error")
			}
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if n != len(data) || 4+4*len(shape)+n != len(in) {
			t.Fatalf("shape %v, %d bytes of data from %d bytes of input", shape, len(data), len(in))
		}
		if !bytes.Equal(idxBytes(8, u32s(shape), data), in) {
			t.Fatal("round trip differs")
		}
	})
}

func u32s(s []int) []uint32 {
	out := make([]uint32, len(s))
	for i, v := range s {
		out[i] = uint32(v)
	}
	return out
}
