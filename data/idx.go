package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxIDXElements is the largest element count ReadIDX accepts (1 GiB of
// bytes; MNIST's training images are 47 MB). A header claiming more is an
// error, whatever the input's real length.
const MaxIDXElements = 1 << 30

// ErrIDX is wrapped by every error ReadIDX returns for malformed input
// (as opposed to an error from the reader itself).
var ErrIDX = errors.New("malformed IDX data")

func idxErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrIDX}, args...)...)
}

// ReadIDX reads one array in the IDX format of the MNIST files: a 4-byte
// magic number (two zero bytes, the element type, the number of
// dimensions), each dimension as a big-endian uint32, then the elements in
// row-major order. Only element type 0x08 (unsigned byte) is supported,
// which is what MNIST uses. It returns the dimensions and the elements.
//
// ReadIDX reads r to its end and rejects trailing bytes (reading to the end
// is also what makes a gzip.Reader verify its checksum). Short data is an
// error wrapping io.ErrUnexpectedEOF. The buffer grows as data arrives
// instead of trusting the header, so a lying header costs no more memory
// than the input itself.
func ReadIDX(r io.Reader) (shape []int, data []byte, err error) {
	return readIDX(r, -1)
}

// readIDX is ReadIDX given the input's total length in bytes where the
// caller knows it for certain enough (a raw file's size, a gzip trailer's
// length; -1 where not). When the header's element count agrees with it
// exactly, the elements are read straight into one buffer of their final
// size: no chunk is copied and no garbage is left for the collector (MNIST's
// 47 MB of training images otherwise pass through chunks adding up to about
// twice that). Any disagreement falls back to the growing buffer, so a
// wrong length costs nothing but that.
func readIDX(r io.Reader, total int64) (shape []int, data []byte, err error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, truncated("magic number", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, idxErr("bad magic number % x (want 00 00 08 ndims)", magic[:])
	}
	if magic[2] != 0x08 {
		return nil, nil, idxErr("element type 0x%02x not supported (only 0x08, unsigned byte)", magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, nil, idxErr("no dimensions")
	}
	dims := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, dims); err != nil {
		return nil, nil, truncated("dimensions", err)
	}
	shape = make([]int, nd)
	n := 1
	for i := range shape {
		d := int(binary.BigEndian.Uint32(dims[4*i:]))
		shape[i] = d
		if d != 0 && n > MaxIDXElements/d {
			return nil, nil, idxErr("shape %v... holds more than %d elements", shape[:i+1], MaxIDXElements)
		}
		n *= d
	}
	if total == int64(4+4*nd+n) {
		data = make([]byte, n)
		var got int
		got, err = io.ReadFull(r, data)
		data = data[:got]
	} else {
		data, err = readN(r, n)
	}
	if err != nil {
		return nil, nil, truncated(fmt.Sprintf("data (shape %v, %d bytes, got %d)", shape, n, len(data)), err)
	}
	var extra [1]byte
	switch k, err := io.ReadFull(r, extra[:]); {
	case k > 0:
		return nil, nil, idxErr("trailing data after %d elements of shape %v", n, shape)
	case err != io.EOF:
		return nil, nil, fmt.Errorf("reading IDX: %w", err)
	}
	return shape, data, nil
}

// readN reads exactly n bytes. It reads in chunks that double with the
// data already read (from 64 KiB), so memory follows the input, not the
// header: a lying header costs at most 64 KiB more than twice the input.
func readN(r io.Reader, n int) ([]byte, error) {
	var buf []byte
	for len(buf) < n {
		k := min(n-len(buf), max(len(buf), 1<<16))
		buf = slices.Grow(buf, k)
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
	}
	if buf == nil {
		buf = []byte{}
	}
	return buf, nil
}

// truncated turns io.EOF and io.ErrUnexpectedEOF into a format error that
// wraps io.ErrUnexpectedEOF, and passes other reader errors through.
func truncated(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated %s: %w", ErrIDX, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("reading IDX %s: %w", what, err)
}
