package plot

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// A diverging grid draws positive values red and negative ones blue; a
// grey grid spans black to white; malformed tiles are errors.
func TestSaveImageGrid(t *testing.T) {
	dir := t.TempDir()
	pos := Tile{Pix: []float64{1, 0.5, 0, 0.25}, H: 2, W: 2, Label: "pos"}
	neg := Tile{Pix: []float64{-1, -0.5, 0, -0.25}, H: 2, W: 2, Label: "neg"}
	path := filepath.Join(dir, "div.png")
	if err := SaveImageGrid([]Tile{pos, neg}, GridOptions{Diverging: true, Title: "filters"}, path); err != nil {
		t.Fatal(err)
	}
	red, blue := countColours(t, path)
	if red == 0 || blue == 0 {
		t.Errorf("diverging grid: %d red and %d blue pixels, want both", red, blue)
	}
	path = filepath.Join(dir, "gray.png")
	if err := SaveImageGrid([]Tile{pos}, GridOptions{}, path); err != nil {
		t.Fatal(err)
	}
	if red, blue := countColours(t, path); red != 0 || blue != 0 {
		t.Errorf("grey grid has colour: %d red, %d blue", red, blue)
	}
	if err := SaveImageGrid([]Tile{{Pix: []float64{1}, H: 2, W: 2}}, GridOptions{}, path); err == nil {
		t.Error("a tile with too few values: no error")
	}
	if err := SaveImageGrid(nil, GridOptions{}, path); err == nil {
		t.Error("no tiles: no error")
	}
}

func countColours(t *testing.T, path string) (red, blue int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case r > 0xe000 && g < 0x4000 && bl < 0x4000:
				red++
			case bl > 0xe000 && r < 0x4000 && g < 0x4000:
				blue++
			}
		}
	}
	return red, blue
}
