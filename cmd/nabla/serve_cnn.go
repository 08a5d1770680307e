package main

// The CNN view: a small CNN trained live on MNIST or Fashion-MNIST, in a
// session of the playground's kind (the same slots, limits, controls and
// stream), whose frames show one test image through the network: each
// layer's feature maps, the first layer's filters and their gradient at
// the last step, the class probabilities and the saliency map, computed
// by cnnmaps.go's helpers, as `nabla plot filters|features|saliency`.
//
// The data sets are loaded once and shared, read-only, by every session
// (a training of its own per client would hold 55 MB each); the run is
// built as buildRun builds it (TestServeCNNRunIsBuildRuns checks the bits).

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/train"
)

// cnnTrainParams are the `nabla train` flags the CNN view sends (query
// name = flag name, in the command's order); cnnPageParams its own: the
// test image shown, the channels of each layer sent, whether to start
// running, the most steps per second, the view.
var (
	cnnTrainParams = []string{"data", "arch", "optimizer", "lr", "momentum", "weight-decay", "schedule", "batch", "epochs", "clip", "seed"}
	cnnPageParams  = []string{"index", "maps", "autoplay", "rate", "view"}
)

const (
	// defaultCNNArch is small enough for a step of batch 32 to take a few
	// milliseconds on one core, so that the filters form while watched.
	defaultCNNArch = "conv(8,5)-relu-maxpool(2)-conv(16,5)-relu-maxpool(2)-flatten-linear(10)"
	maxMaps        = 16 // feature maps per layer in a frame
	maxFilters     = 64 // first-layer filters in a frame
	maxThumbs      = 100
	lossWindow     = 20 // the displayed loss is the mean of the last steps'
)

// cnnClassNames are the class names of the two data sets.
var cnnClassNames = map[string][]string{
	"mnist":         {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	"fashion-mnist": data.FashionMNISTClasses[:],
}

// cnnDataSets lists the image data sets this machine has, and why each
// other one is missing (the view offers only those it has).
func cnnDataSets() (have []string, missing map[string]string) {
	missing = map[string]string{}
	if _, err := data.FindMNIST(""); err == nil {
		have = append(have, "mnist")
	} else {
		missing["mnist"] = err.Error()
	}
	if _, err := data.FindFashionMNIST(""); err == nil {
		have = append(have, "fashion-mnist")
	} else {
		missing["fashion-mnist"] = err.Error()
	}
	return have, missing
}

// cnnCache holds the data sets loaded, shared by every session.
var cnnCache struct {
	sync.Mutex
	sets map[string][2]*data.InMemory
}

// cnnData returns the training and test sets of name (mnist or
// fashion-mnist), loading them on first use; it never downloads.
func cnnData(name string) (tr, te *data.InMemory, err error) {
	cnnCache.Lock()
	defer cnnCache.Unlock()
	if s, ok := cnnCache.sets[name]; ok {
		return s[0], s[1], nil
	}
	var dir string
	switch name {
	case "mnist":
		dir, err = data.FindMNIST("")
	case "fashion-mnist":
		dir, err = data.FindFashionMNIST("")
	default:
		err = fmt.Errorf("no image data set %q", name)
	}
	if err != nil {
		return nil, nil, err
	}
	if tr, te, err = loadData(name, dir, -1, false, false, 1); err != nil {
		return nil, nil, err
	}
	if cnnCache.sets == nil {
		cnnCache.sets = map[string][2]*data.InMemory{}
	}
	cnnCache.sets[name] = [2]*data.InMemory{tr, te}
	return tr, te, nil
}

// cnnState is a CNN session's own: the image shown and what the steps
// leave for the frames. Only the session's goroutine touches it, but for
// test, which is read-only.
type cnnState struct {
	data    string
	test    *data.InMemory
	index   int
	maps    int
	filters *imageFilters // nil: the first layer's weights are no images
	grad    []float64     // the filters' weight gradient at the last step (nil before one)
	losses  []float64     // the last lossWindow steps' losses
}

// parseCNN checks the CNN view's query and turns it into `nabla train`
// flags; every error is a one-line reason for a 400.
func parseCNN(q url.Values, lim serveLimits) (*playRequest, *cnnState, error) {
	if err := checkQuery(q, cnnTrainParams, cnnPageParams); err != nil {
		return nil, nil, err
	}
	name := q.Get("data")
	if name == "" {
		name = "mnist"
	}
	if _, ok := cnnClassNames[name]; !ok {
		return nil, nil, fmt.Errorf("data must be mnist or fashion-mnist, not %q (the page reads no files)", name)
	}
	if have, missing := cnnDataSets(); !slices.Contains(have, name) {
		return nil, nil, fmt.Errorf("data %s is not on this server: %s", name, missing[name])
	}
	arch := strings.TrimSpace(q.Get("arch"))
	if arch == "" {
		arch = defaultCNNArch
	}
	if strings.HasSuffix(strings.ToLower(arch), ".json") {
		return nil, nil, errors.New("arch must be a spec, not a file name (the page reads no files)")
	}
	p := &playRequest{args: []string{"--data", name, "--arch", arch}}
	for _, k := range cnnTrainParams[2:] {
		if v := q.Get(k); v != "" {
			p.args = append(p.args, "--"+k, v)
		}
	}
	var err error
	if p.flags, err = pageTrainFlags(p.args, lim); err != nil {
		return nil, nil, err
	}
	if err := parseRun(q, p); err != nil {
		return nil, nil, err
	}
	c := &cnnState{data: name, maps: 8}
	if v := q.Get("index"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("index must be a test image's number, an integer ≥ 0, not %q", v)
		}
		c.index = n
	}
	if v := q.Get("maps"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaps {
			return nil, nil, fmt.Errorf("maps must be an integer in [1, %d], not %q", maxMaps, v)
		}
		c.maps = n
	}
	return p, c, nil
}

// buildCNNRun is buildRun for the CNN view's flags (no validation split,
// no normalisation) over data sets already loaded: the same data, model,
// optimiser, schedule and generators, so the command the page shows gives
// the same bits.
func buildCNNRun(f trainFlags, tr, te *data.InMemory) (*trainRun, error) {
	switch {
	case f.Val != 0 || f.Normalize || f.L1 != 0 || f.L2 != 0 || f.Dropout != 0 || f.Patience != 0:
		return nil, errors.New("the CNN view trains without val, normalize, l1, l2, dropout or patience")
	case f.Clip < 0:
		return nil, errors.New("clip must not be negative")
	}
	return buildRunFrom(f, tr, te, "", serveMemory)
}

func (s *server) handleCNN(w http.ResponseWriter, r *http.Request) {
	p, c, err := parseCNN(r.URL.Query(), s.lim)
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	s.serveSession(w, r, p, c, func() (*trainRun, error) {
		tr, te, err := cnnData(c.data)
		if err != nil {
			return nil, err
		}
		if c.index >= te.Len() {
			return nil, fmt.Errorf("index must be in [0, %d) (the test images of %s), not %d", te.Len(), c.data, c.index)
		}
		run, err := buildCNNRun(p.flags, tr, te)
		if err != nil {
			return nil, err
		}
		if err := checkParams(run); err != nil {
			return nil, err
		}
		if err := checkSteps(run, p.flags, s.lim); err != nil {
			return nil, err
		}
		c.test = te
		c.filters = firstImageFilters(run.model, run.input)
		return run, nil
	})
}

// attach makes the trainer keep the filters' gradient of each step, read
// after the backward pass and before the optimiser's next ZeroGrad.
func (c *cnnState) attach(t *train.Trainer) {
	prev := t.Config.Record
	t.Config.Record = func(step int) {
		if prev != nil {
			prev(step)
		}
		if c.filters == nil {
			return
		}
		if g := c.filters.Weight.Grad(); g != nil {
			c.grad = slices.Clone(g.Values())
		}
	}
}

func (c *cnnState) onStep(res train.StepResult) {
	if len(c.losses) == lossWindow {
		c.losses = c.losses[1:]
	}
	c.losses = append(c.losses, res.Loss)
}

// cnnInit describes the run: the command, the data, the network.
func (ss *session) cnnInit() {
	c := ss.cnn
	what := ""
	if c.filters != nil {
		what = c.filters.What
	}
	ss.send("init", map[string]any{
		"id": ss.id, "command": ss.req.command(), "exact": true, "data": c.data, "classes": ss.run.train.Classes(),
		"class_names": cnnClassNames[c.data], "test": c.test.Len(), "shape": ss.run.input.Shape, "index": c.index,
		"spec": describeSpec(ss.run.spec), "params": nn.NumParams(ss.run.model), "epochs": ss.req.flags.Epochs,
		"steps_per_epoch": (ss.run.train.Len() + ss.req.flags.Batch - 1) / ss.req.flags.Batch,
		"filters":         what, "flags": ss.req.flags,
	})
}

// byteMap is an image as bytes: byte 0 stands for Lo, 255 for Hi.
type byteMap struct {
	Lo  float64 `json:"lo"`
	Hi  float64 `json:"hi"`
	Map string  `json:"map"` // base64, rows from the top
}

// toBytes scales v from its own minimum to its maximum.
func toBytes(v []float64) byteMap {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	b := make([]byte, len(v))
	if hi > lo {
		for i, x := range v {
			b[i] = byte(math.Round(255 * (x - lo) / (hi - lo)))
		}
	}
	return byteMap{Lo: lo, Hi: hi, Map: base64.StdEncoding.EncodeToString(b)}
}

type cnnLayer struct {
	Path string    `json:"path"`
	Kind string    `json:"kind"`
	C    int       `json:"c"`
	H    int       `json:"h"`
	W    int       `json:"w"`
	Maps []byteMap `json:"maps"`
}

// cnnFrame sends the live state: the chosen test image through the
// network (in evaluation mode, recording nothing of the training's
// graph), the filters and their gradient, the loss.
func (ss *session) cnnFrame() {
	c, m := ss.cnn, ss.run.model
	x, y := c.test.Batch([]int{c.index})
	x = x.AsType(nn.DTypeOf(m))
	was := nn.IsTraining(m)
	nn.SetTraining(m, false)
	defer nn.SetTraining(m, was)
	_, traced := nn.Trace(m, ag.Untracked(x))
	var layers []cnnLayer
	for _, l := range featureLayers(traced, c.maps) {
		cl := cnnLayer{Path: l.Path, Kind: l.Kind, C: l.C, H: l.H, W: l.W}
		for _, pix := range l.Maps {
			cl.Maps = append(cl.Maps, toBytes(pix))
		}
		layers = append(layers, cl)
	}
	probs, cls, g, _ := saliency(m, x, -1)
	sh := ss.run.input.Shape // [C, H, W]
	abs, _ := foldSaliency(g, sh[0], sh[1]*sh[2])
	var filters map[string]any
	if f := c.filters; f != nil {
		filters = map[string]any{"what": f.What, "n": f.N, "h": f.H, "w": f.W,
			"weights": f.images(f.Weight.Value().Values(), maxFilters)}
		if c.grad != nil {
			filters["grads"] = f.images(c.grad, maxFilters)
		}
	}
	var avg any
	if len(c.losses) > 0 {
		var s float64
		for _, l := range c.losses {
			s += l
		}
		avg = s / float64(len(c.losses))
	}
	ss.send("frame", map[string]any{
		"step": ss.last.Step, "epoch": ss.last.Epoch, "loss": ss.last.Loss, "loss_avg": avg, "lr": ss.last.LR,
		"batch_acc": float64(ss.last.Correct) / float64(max(ss.last.N, 1)), "paused": ss.paused,
		"index": c.index, "label": y[0], "probs": probs, "pred": argmax(probs), "saliency_class": cls,
		"image": toBytes(x.Values()[:sh[1]*sh[2]]), "saliency": toBytes(abs), "shape": sh,
		"features": layers, "filters": filters, "layers": ss.stats,
	})
}

// handleCNNImages sends test images as thumbnails for the page's picker:
// n (at most maxThumbs) images from from, as bytes, with their labels.
func (s *server) handleCNNImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkQuery(q, []string{"data", "from", "n"}); err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	name := q.Get("data")
	if name == "" {
		name = "mnist"
	}
	if _, ok := cnnClassNames[name]; !ok {
		badRequest(w, http.StatusBadRequest, fmt.Sprintf("data must be mnist or fashion-mnist, not %q (the page reads no files)", name))
		return
	}
	from, n := 0, 20
	if v := q.Get("from"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("from must be an integer ≥ 0, not %q", v))
			return
		}
		from = k
	}
	if v := q.Get("n"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > maxThumbs {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("n must be an integer in [1, %d], not %q", maxThumbs, v))
			return
		}
		n = k
	}
	if have, missing := cnnDataSets(); !slices.Contains(have, name) {
		badRequest(w, http.StatusBadRequest, fmt.Sprintf("data %s is not on this server: %s", name, missing[name]))
		return
	}
	_, te, err := cnnData(name)
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	if from >= te.Len() {
		badRequest(w, http.StatusBadRequest, fmt.Sprintf("from must be below %d (the test images of %s), not %d", te.Len(), name, from))
		return
	}
	n = min(n, te.Len()-from)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = from + i
	}
	x, y := te.Batch(idx)
	v := x.Values()
	b := make([]byte, len(v))
	for i, p := range v {
		b[i] = byte(math.Round(255 * min(max(p, 0), 1)))
	}
	sh := te.Shape()
	writeJSON(w, map[string]any{"data": name, "from": from, "total": te.Len(), "labels": y, "class_names": cnnClassNames[name],
		"h": sh[1], "w": sh[2], "images": base64.StdEncoding.EncodeToString(b)})
}

// cnnOptions is what the page offers in the CNN view.
func cnnOptions() map[string]any {
	have, missing := cnnDataSets()
	return map[string]any{"data": have, "missing": missing, "arch": defaultCNNArch, "presets": nn.PresetNames(),
		"maps": maxMaps, "thumbs": maxThumbs}
}
