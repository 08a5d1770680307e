package data_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/tensor"
)

func ExampleSpiral() {
	ds := data.Spiral(100, 3, 0.2, tensor.NewRand(0))
	fmt.Println(ds.Name, ds.X.Shape(), ds.Classes(), ds.ClassCounts())
	// Output: spiral [300 2] 3 [100 100 100]
}

func ExampleSynthetic() {
	for _, name := range data.SyntheticNames() {
		ds, _ := data.Synthetic(name, tensor.NewRand(1))
		fmt.Println(name, ds.Len(), ds.Features(), ds.Classes())
	}
	_, err := data.Synthetic("swissroll", tensor.NewRand(1))
	fmt.Println(err)
	// Output:
	// blobs 1000 2 4
	// circles 1000 2 2
	// moons 1000 2 2
	// spiral 900 2 3
	// xor 1000 2 2
	// data: unknown synthetic data set "swissroll" (known: blobs, circles, moons, spiral, xor)
}

func ExampleSplit() {
	ds := data.Moons(1000, 0.1, tensor.NewRand(0))
	train, val := data.Split(ds, 0.2, tensor.NewRand(1))
	nz := data.FitNormalizer(train) // fit on the training set only
	train, val = nz.Apply(train), nz.Apply(val)
	fmt.Println(train.Name, train.Len(), val.Name, val.Len())
	// Output: moons/train 800 moons/val 200
}

func ExampleLoader() {
	ds := data.XOR(10, 0, tensor.NewRand(0))
	loader := data.NewLoader(ds, 4, true, false, tensor.NewRand(1))
	fmt.Println(loader.NumBatches(), "batches per epoch")
	for epoch := range 2 {
		for x, y := range loader.Epoch() {
			fmt.Println(epoch, x.Shape(), len(y))
		}
	}
	// Output:
	// 3 batches per epoch
	// 0 [4 2] 4
	// 0 [4 2] 4
	// 0 [2 2] 2
	// 1 [4 2] 4
	// 1 [4 2] 4
	// 1 [2 2] 2
}

func ExampleLoader_Next() {
	ds := data.Blobs(10, 2, 0.5, tensor.NewRand(0))
	loader := data.NewLoader(ds, 4, false, true, nil) // in order, drop the short batch
	for {
		x, y, ok := loader.Next()
		if !ok {
			break
		}
		fmt.Println(x.Shape(), y)
	}
	// Output:
	// [4 2] [0 1 0 1]
	// [4 2] [0 1 0 1]
}

func ExampleReadIDX() {
	// A 2×3 array of bytes: magic 00 00 08 02, dimensions 2 and 3
	// (big-endian uint32), then the six elements.
	in := []byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6}
	shape, elems, err := data.ReadIDX(bytes.NewReader(in))
	fmt.Println(shape, elems, err)
	_, _, err = data.ReadIDX(bytes.NewReader(in[:15]))
	fmt.Println(err)
	// Output:
	// [2 3] [1 2 3 4 5 6] <nil>
	// malformed IDX data: truncated data (shape [2 3], 6 bytes, got 3): unexpected EOF
}

func ExampleReadCSV() {
	in := "x,y,label\n0.5,1,0\n-2,3.5,1\n4,0,2\n"
	ds, err := data.ReadCSV(strings.NewReader(in), "points.csv", -1, true)
	fmt.Println(ds.X.Shape(), ds.Y, ds.Classes(), err)
	_, err = data.ReadCSV(strings.NewReader("x,y,label\n0.5,1,0\n-2,oops,1\n"), "points.csv", -1, true)
	fmt.Println(err)
	// Output:
	// [3 2] [0 1 2] 3 <nil>
	// data: points.csv:3: column 2 ("y"): "oops" is not a finite number
}
