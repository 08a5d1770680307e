package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/tensor"
)

// MaxCSVClasses bounds the labels ReadCSV accepts: each must be in
// [0, MaxCSVClasses). A larger label is almost always the wrong column, and
// would make a model with that many outputs.
const MaxCSVClasses = 1 << 16

// LoadCSV reads a classification data set from the CSV file at path (see
// ReadCSV). The data set is named after the file, without its extension.
func LoadCSV(path string, labelCol int, header bool) (*InMemory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	ds, err := ReadCSV(f, path, labelCol, header)
	if err != nil {
		return nil, err
	}
	ds.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return ds, nil
}

// ReadCSV reads comma-separated rows from r: every field a number (a
// feature, stored as float32) except the one in column labelCol, an
// integer class label in [0, MaxCSVClasses). Columns count from 0;
// a negative labelCol counts from the end (-1 is the last column). With
// header the first row is skipped (its names are used in messages).
// Blank lines are ignored and fields may be quoted and padded with spaces.
// NumClasses is the largest label plus one. name is used in errors, which
// give the line and the 1-based column (field) of the first bad value,
// or file:line:character for CSV syntax errors:
//
//	iris.csv:7: column 5 ("species"): label "setosa" is not an integer
//	iris.csv:9:12: bare " in non-quoted-field
//
// Rows with a different number of fields than the first, values that are
// not finite float32 numbers, labels that are not integers in range, and
// input with no data rows or no feature columns are errors.
func ReadCSV(r io.Reader, name string, labelCol int, header bool) (*InMemory, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a better message
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	var (
		names    []string
		width    = -1 // fields per row, from the first row (header or data)
		firstRow int  // line of that row
		label    int  // resolved label column
		x        []float32
		y        []int
		maxLabel = -1
	)
	colName := func(j int) string {
		if j < len(names) && names[j] != "" {
			return fmt.Sprintf("column %d (%q)", j+1, names[j])
		}
		return fmt.Sprintf("column %d", j+1)
	}
	for rowNum := 0; ; rowNum++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// Column is a character position here, not a field: write
				// it the way compilers do, file:line:col.
				return nil, fmt.Errorf("data: %s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("data: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if width < 0 {
			width, firstRow = len(rec), line
			label = labelCol
			if label < 0 {
				label += width
			}
			if label < 0 || label >= width {
				return nil, fmt.Errorf("data: %s:%d: label column %d is outside the %d columns", name, line, labelCol, width)
			}
			if width < 2 {
				return nil, fmt.Errorf("data: %s:%d: only the label column; no features", name, line)
			}
		} else if len(rec) != width {
			return nil, fmt.Errorf("data: %s:%d: %d fields, want %d as on line %d", name, line, len(rec), width, firstRow)
		}
		if header && rowNum == 0 {
			names = make([]string, len(rec))
			for j, f := range rec {
				names[j] = strings.TrimSpace(f)
			}
			continue
		}
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if j == label {
				c, err := strconv.Atoi(f)
				if err != nil {
					l, _ := cr.FieldPos(j)
					return nil, fmt.Errorf("data: %s:%d: %s: label %q is not an integer", name, l, colName(j), f)
				}
				if c < 0 || c >= MaxCSVClasses {
					l, _ := cr.FieldPos(j)
					return nil, fmt.Errorf("data: %s:%d: %s: label %d is outside [0, %d)", name, l, colName(j), c, MaxCSVClasses)
				}
				y = append(y, c)
				maxLabel = max(maxLabel, c)
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err == nil && (math.IsNaN(v) || math.IsInf(roundFloat32(v), 0)) {
				err = errors.New("not finite")
			}
			if err != nil {
				l, _ := cr.FieldPos(j)
				return nil, fmt.Errorf("data: %s:%d: %s: %q is not a finite number", name, l, colName(j), f)
			}
			x = append(x, float32(v))
		}
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("data: %s: no data rows", name)
	}
	return &InMemory{X: tensor.FromFloat32(x, len(y), width-1), Y: y, NumClasses: maxLabel + 1, Name: name}, nil
}

// roundFloat32 returns v rounded to float32 and widened back, so
// that values beyond float32's range show up as infinite.
func roundFloat32(v float64) float64 { return float64(float32(v)) }
