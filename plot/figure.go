package plot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/nabla-go/nabla/internal/fsutil"
)

// DPI is the resolution of PNG output: a figure w wide is w/vg.Inch·DPI
// pixels wide.
const DPI = 96

// canvas is a drawing surface that can be written out: what vgimg's PNG
// canvas and vgsvg's canvas have in common.
type canvas interface {
	vg.CanvasSizer
	io.WriterTo
}

// newCanvas returns a canvas of size w×h for the format named by path's
// extension (".png" or ".svg", in any case).
func newCanvas(path string, w, h vg.Length) (canvas, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}, nil
	case ".svg":
		return vgsvg.New(w, h), nil
	default:
		return nil, fmt.Errorf("plot: %s: unsupported image format %q (use .png or .svg)", path, ext)
	}
}

// Save draws p on a w×h figure, inside a blank border of Margin, and
// writes it to path, as PNG or SVG by the extension of path. The file is
// replaced atomically.
func Save(p *plot.Plot, path string, w, h vg.Length) error {
	c, err := newCanvas(path, w, h)
	if err != nil {
		return err
	}
	// A margin keeps the title off the top edge and the legend's
	// thumbnails, drawn flush with the right of the data area, inside.
	p.Draw(draw.Crop(draw.New(c), Margin, -Margin, Margin, -Margin))
	return writeAtomic(path, c)
}

// Margin is the blank border Save leaves around a figure.
const Margin = 1.5 * vg.Millimeter

// SaveGrid draws panels as a grid of tiles on one w×h figure, panels[i][j]
// at row i (from the top), column j, and writes it to path as Save does.
// The grid has as many columns as the longest row; a nil panel, or a short
// row, leaves its tile empty. An empty grid is an error.
func SaveGrid(panels [][]*plot.Plot, path string, w, h vg.Length) error {
	rows, cols := len(panels), 0
	for _, r := range panels {
		cols = max(cols, len(r))
	}
	if rows == 0 || cols == 0 {
		return fmt.Errorf("plot: %s: no panels to draw", path)
	}
	c, err := newCanvas(path, w, h)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter,
		PadLeft: vg.Millimeter, PadRight: vg.Millimeter,
	}
	for i, r := range panels {
		for j, p := range r {
			if p != nil {
				p.Draw(tiles.At(dc, j, i))
			}
		}
	}
	return writeAtomic(path, c)
}

// writeAtomic writes c to path through internal/fsutil.WriteFile, so that
// path holds either the old figure or the whole new one.
func writeAtomic(path string, c io.WriterTo) error {
	err := fsutil.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe) && pe.Path == path:
		return fmt.Errorf("plot: cannot write %s: %w", path, pe.Err)
	case pe != nil: // the folder, synced after the rename
		return fmt.Errorf("plot: wrote %s, but syncing its folder failed: %w", path, pe.Err)
	}
	if err != nil {
		return fmt.Errorf("plot: cannot write %s: %w", path, err)
	}
	return nil
}
