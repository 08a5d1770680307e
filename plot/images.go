package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// Tile is one small image of a grid: H×W values in row-major order, and a
// caption.
type Tile struct {
	Pix   []float64
	H, W  int
	Label string
}

// GridOptions say how SaveImageGrid draws its tiles.
type GridOptions struct {
	// Cols is the number of tiles a row (0: about the square root of the
	// count).
	Cols int
	// Diverging draws values with a blue–white–red scale centred on 0 and
	// shared by all tiles (for filters and gradients, whose sign matters);
	// otherwise each tile is scaled from its own minimum (black) to its
	// maximum (white), as feature maps and images are.
	Diverging bool
	// Title is drawn above the first row when set.
	Title string
	// TileMM is each image's side in millimetres (0: 25).
	TileMM float64
}

// SaveImageGrid draws tiles as a grid of small images, each with its
// label, to path (.png or .svg), o.Cols a row. Tiles whose pixel count
// does not match their size, or an empty list, are errors.
func SaveImageGrid(tiles []Tile, o GridOptions, path string) error {
	cols := o.Cols
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	}
	var rows [][]Tile
	for i, t := range tiles {
		if i%cols == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], t)
	}
	return SaveImageRows(rows, o, path)
}

// SaveImageRows draws rows of small images (one row per layer, say), each
// with its label, to path (.png or .svg); o.Cols is ignored. Tiles whose
// pixel count does not match their size, or no tile at all, are errors.
func SaveImageRows(rows [][]Tile, o GridOptions, path string) error {
	size := vg.Length(o.TileMM) * vg.Millimeter
	if o.TileMM <= 0 {
		size = 25 * vg.Millimeter
	}
	shared, count, cols := 0.0, 0, 0
	for _, r := range rows {
		cols = max(cols, len(r))
		for _, t := range r {
			if t.H < 1 || t.W < 1 || len(t.Pix) != t.H*t.W {
				return fmt.Errorf("plot: %s: image %d has %d values for %d×%d", path, count, len(t.Pix), t.H, t.W)
			}
			count++
			for _, v := range t.Pix {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					shared = math.Max(shared, math.Abs(v))
				}
			}
		}
	}
	if count == 0 {
		return fmt.Errorf("plot: %s: no images to draw", path)
	}
	var panels [][]*plot.Plot
	for i, r := range rows {
		var row []*plot.Plot
		for j, t := range r {
			p := plot.New()
			p.Title.Text = t.Label
			if i == 0 && j == 0 && o.Title != "" {
				p.Title.Text = o.Title + "\n" + t.Label
			}
			p.HideAxes()
			// A caption wider than its tile ("2 MaxPool2d: 0", the
			// title) starts at the tile's left edge and runs on over the
			// next tile's caption space, instead of spilling out of the
			// figure on the left; tiles draw no background of their own,
			// so the next one does not paint over it.
			p.BackgroundColor = color.Transparent
			if w := p.Title.TextStyle.Width(p.Title.Text); w > size {
				p.Title.TextStyle.XAlign = text.XAlignment(-0.5 * float64(size) / float64(w))
			}
			var img image.Image
			if o.Diverging {
				img = divergingImage(t, shared)
			} else {
				img = grayImage(t)
			}
			p.Add(plotter.NewImage(img, 0, 0, float64(t.W), float64(t.H)))
			row = append(row, p)
		}
		panels = append(panels, row)
	}
	// Each row is a square image plus its caption's height, so that
	// images keep their aspect.
	caption := 5 * vg.Millimeter
	extra := vg.Length(0)
	if o.Title != "" {
		extra = caption
	}
	return SaveGrid(panels, path, vg.Length(cols)*size, vg.Length(len(rows))*(size+caption)+extra)
}

// grayImage maps a tile from its minimum (black) to its maximum (white);
// a constant tile is mid-grey.
func grayImage(t Tile) image.Image {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range t.Pix {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	img := image.NewGray(image.Rect(0, 0, t.W, t.H))
	for y := range t.H {
		for x := range t.W {
			v := t.Pix[y*t.W+x]
			g := 0.5
			if hi > lo && !math.IsNaN(v) {
				g = (v - lo) / (hi - lo)
			}
			img.SetGray(x, y, color.Gray{Y: uint8(math.Round(255 * math.Min(1, math.Max(0, g))))})
		}
	}
	return img
}

// divergingImage maps −scale…0…scale to blue, white and red.
func divergingImage(t Tile, scale float64) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, t.W, t.H))
	for y := range t.H {
		for x := range t.W {
			v := 0.0
			if scale > 0 && !math.IsNaN(t.Pix[y*t.W+x]) {
				v = math.Max(-1, math.Min(1, t.Pix[y*t.W+x]/scale))
			}
			fade := uint8(math.Round(255 * (1 - math.Abs(v))))
			c := color.RGBA{R: 255, G: fade, B: fade, A: 255} // red for positive
			if v < 0 {
				c = color.RGBA{R: fade, G: fade, B: 255, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
