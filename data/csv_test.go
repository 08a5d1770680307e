package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadCSV(t *testing.T) {
	path := filepath.Join("..", "testdata", "data", "iris-sample.csv")
	for _, col := range []int{4, -1} {
		ds, err := LoadCSV(path, col, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.Validate(); err != nil {
			t.Fatal(err)
		}
		if ds.Name != "iris-sample" || ds.Len() != 6 || ds.Features() != 4 || ds.Classes() != 3 {
			t.Errorf("%q: %d×%d, %d classes", ds.Name, ds.Len(), ds.Features(), ds.Classes())
		}
		if !equalInts(ds.Y, []int{0, 0, 1, 1, 2, 2}) {
			t.Errorf("labels %v", ds.Y)
		}
		if got := ds.X.Float32s()[8:12]; !slices.Equal(got, []float32{7.0, 3.2, 4.7, 1.4}) {
			t.Errorf("row 2: %v", got)
		}
	}
	if _, err := LoadCSV(filepath.Join(t.TempDir(), "missing.csv"), 0, false); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadCSVForms(t *testing.T) {
	// Label first, no header, quoted and padded fields, blank lines,
	// CRLF, exponents.
	in := "2, 1.5,-3\r\n\r\n0,\"2e-1\", 4\n\n1,0,0\n"
	ds, err := ReadCSV(strings.NewReader(in), "mem.csv", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(ds.Y, []int{2, 0, 1}) || ds.Classes() != 3 || ds.Features() != 2 {
		t.Errorf("labels %v classes %d", ds.Y, ds.Classes())
	}
	if got := ds.X.Float32s(); !slices.Equal(got, []float32{1.5, -3, 0.2, 4, 0, 0}) {
		t.Errorf("X %v", got)
	}
	// Label in the middle; labels need not include 0.
	ds, err = ReadCSV(strings.NewReader("1,4,2\n3,5,4\n"), "m", 1, false)
	if err != nil || !equalInts(ds.Y, []int{4, 5}) || ds.Classes() != 6 || !slices.Equal(ds.X.Float32s(), []float32{1, 2, 3, 4}) {
		t.Errorf("middle label: %v", err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		col      int
		header   bool
		want     string
	}{
		{"empty", "", -1, false, "x.csv: no data rows"},
		{"header only", "a,b,label\n", -1, true, "x.csv: no data rows"},
		{"ragged short", "1,2,0\n3,4,1\n5,1\n", -1, false, "x.csv:3: 2 fields, want 3 as on line 1"},
		{"ragged long", "a,b,c\n1,2,0\n3,4,1,9\n", -1, true, "x.csv:3: 4 fields, want 3 as on line 1"},
		{"ragged header", "a,b\n1,2,0\n", -1, true, "x.csv:2: 3 fields, want 2 as on line 1"},
		{"not a number", "1,2,0\n3,x4,1\n", -1, false, `x.csv:2: column 2: "x4" is not a finite number`},
		{"named column", "a,b,y\n1,2,0\n3,,1\n", -1, true, `x.csv:3: column 2 ("b"): "" is not a finite number`},
		{"NaN", "1,NaN,0\n", -1, false, `column 2: "NaN" is not a finite number`},
		{"Inf", "1,-Inf,0\n", -1, false, `column 2: "-Inf" is not a finite number`},
		{"float32 overflow", "1,1e39,0\n", -1, false, `column 2: "1e39" is not a finite number`},
		{"label not integer", "1,2,0\n3,4,1.5\n", -1, false, `x.csv:2: column 3: label "1.5" is not an integer`},
		{"label text", "a,b,species\n1,2,setosa\n", 2, true, `x.csv:2: column 3 ("species"): label "setosa" is not an integer`},
		{"label negative", "1,2,-1\n", -1, false, "x.csv:1: column 3: label -1 is outside [0, 65536)"},
		{"label huge", "1,2,70000\n", -1, false, "label 70000 is outside"},
		{"label column", "1,2,0\n", 3, false, "x.csv:1: label column 3 is outside the 3 columns"},
		{"label column negative", "1,2,0\n", -4, false, "label column -4 is outside"},
		{"only label", "0\n1\n", 0, false, "x.csv:1: only the label column"},
		{"bare quote", "1,2,0\n1,2\"x,0\n", -1, false, `x.csv:2:4: bare " in non-quoted-field`},
		{"unterminated quote", "1,\"2,0\n", -1, false, `x.csv:1:8: extraneous or missing " in quoted-field`},
		{"multi-line field", "1,2,0\n\"3\n\",x,1\n", -1, false, `x.csv:3: column 2: "x" is not a finite number`},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), "x.csv", tc.col, tc.header)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	// LoadCSV names the file in its errors.
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte("1,2,0\n1,zz,0\n"), 0o644)
	if _, err := LoadCSV(path, -1, false); err == nil || !strings.Contains(err.Error(), path+":2: column 2") {
		t.Errorf("LoadCSV error: %v", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	iris, err := os.ReadFile(filepath.Join("..", "testdata", "data", "iris-sample.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(iris), -1, true)
	f.Add("1,2,0\n3,4,1\n", 2, false)
	f.Add("0, 1.5e3 ,\"2\"\r\n1,-0,3\n", 0, false)
	f.Add("1,2\n3\n", -1, false)
	f.Add("a,\"b\nc\",d\n", 1, true)
	f.Add("1,NaN,0\n", -1, false)
	f.Fuzz(func(t *testing.T, in string, col int, header bool) {
		ds, err := ReadCSV(strings.NewReader(in), "fuzz.csv", col, header)
		if err != nil {
			return
		}
		if err := ds.Validate(); err != nil {
			t.Fatalf("accepted input gives an invalid data set: %v", err)
		}
		if ds.Len() == 0 || ds.Features() < 1 {
			t.Fatalf("accepted %d×%d", ds.Len(), ds.Features())
		}
	})
}
