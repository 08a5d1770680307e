package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

func Example() {
	weights := map[string]*tensor.Tensor{
		"0.weight": tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
		"0.bias":   tensor.FromFloat32([]float32{0.5, -0.5}),
		"step":     tensor.FromFloat64([]float64{1000}, []int{}...), // a scalar
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, weights, map[string]string{"format": "pt"}); err != nil {
		fmt.Println(err)
		return
	}
	ts, meta, err := safetensors.Decode(buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	w := ts["0.weight"]
	fmt.Println(w.DType(), w.Shape(), w.Float32s())
	fmt.Println(ts["step"].DType(), ts["step"].Shape(), ts["step"].Item())
	fmt.Println(meta)

	// The file: an 8-byte little-endian header length, the JSON header
	// (sorted by name, padded with spaces to a multiple of 8 bytes), then
	// the data: F64 tensors first, so that each one is aligned.
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	fmt.Printf("%d %q\n", n, b[8:8+n])
	// Output:
	// float32 [2 3] [1 2 3 4 5 6]
	// float64 [] 1000
	// map[format:pt]
	// 216 "{\"__metadata__\":{\"format\":\"pt\"},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]},\"step\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}      "
}

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "nabla")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	// WriteFile replaces path atomically: a reader sees the old file or
	// the new one, never half of one.
	model := map[string]*tensor.Tensor{"w": tensor.FromFloat32([]float32{1, 2}, 1, 2)}
	if err := safetensors.WriteFile(path, model, nil); err != nil {
		fmt.Println(err)
		return
	}
	ts, _, err := safetensors.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ts["w"].Shape(), ts["w"].Float32s())
	// Output:
	// [1 2] [1 2]
}

func ExampleReadOptions() {
	// A BF16 tensor holding 1.5 (0x3fc0), as Hugging Face checkpoints
	// often store weights.
	header := `{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`
	file := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	file = append(file, 0xc0, 0x3f)

	_, _, err := safetensors.Decode(file)
	fmt.Println(err)
	fmt.Println(errors.Is(err, safetensors.ErrUnsupportedDType))

	ts, _, err := safetensors.ReadOptions{ToFloat32: true}.Decode(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ts["w"].DType(), ts["w"].Float32s())
	// Output:
	// safetensors: tensor "w": dtype BF16 is read only with a conversion to float32 or float64 (see safetensors.As)
	// true
	// float32 [1.5]
}

func ExampleDecode_errors() {
	// Two tensors whose bytes overlap.
	header := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`
	file := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	file = append(file, make([]byte, 8)...)
	_, _, err := safetensors.Decode(file)
	fmt.Println(err)

	var e *safetensors.Error
	if errors.As(err, &e) {
		fmt.Println(e.Tensor)
	}
	// Output:
	// safetensors: tensor "b": data_offsets [4, 8] overlap those of tensor "a" [0, 8]
	// b
}

func ExampleAs() {
	// An F16 tensor holding 1 and -2.5 (0x3c00, 0xc100), as PyTorch's
	// model.half() saves it, read into a float64 model's dtype.
	header := `{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`
	file := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	file = append(file, 0x00, 0x3c, 0x00, 0xc1)

	ts, _, err := safetensors.As(tensor.Float64).Decode(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ts["w"].DType(), ts["w"].Float64s())
	// Output:
	// float64 [1 -2.5]
}
