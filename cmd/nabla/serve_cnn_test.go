package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
)

// mnistTest is MNIST's test set, as the CNN view's cache holds it.
func mnistTest(t *testing.T) *data.InMemory {
	t.Helper()
	_, te, err := cnnData("mnist")
	if err != nil {
		t.Fatal(err)
	}
	return te
}

type cnnFrameT struct {
	Step     int        `json:"step"`
	LossAvg  *float64   `json:"loss_avg"`
	Index    int        `json:"index"`
	Label    int        `json:"label"`
	Probs    []float64  `json:"probs"`
	Pred     int        `json:"pred"`
	Image    byteMap    `json:"image"`
	Saliency byteMap    `json:"saliency"`
	Shape    []int      `json:"shape"`
	Features []cnnLayer `json:"features"`
	Filters  *struct {
		N, H, W int
		Weights [][]float64 `json:"weights"`
		Grads   [][]float64 `json:"grads"`
	} `json:"filters"`
}

func (s *sseStream) cnnFrame() cnnFrameT {
	s.t.Helper()
	ev, _ := s.until("frame")
	var f cnnFrameT
	if err := json.Unmarshal(ev.Data, &f); err != nil {
		s.t.Fatal(err)
	}
	return f
}

// Every bad parameter of the CNN view's endpoints is a 400 (or the status
// named) with a one-line reason.
func TestServeCNNBadRequests(t *testing.T) {
	ts := newTestServer(t, testLimits())
	for _, c := range []struct {
		method, path, body string
		code               int
		reason             string
	}{
		{"GET", "/api/cnn?data=cifar10", "", 400, "data must be mnist or fashion-mnist"},
		{"GET", "/api/cnn?data=/etc/passwd", "", 400, "the page reads no files"},
		{"GET", "/api/cnn?data=spiral", "", 400, "data must be mnist or fashion-mnist"},
		{"GET", "/api/cnn?arch=model.json", "", 400, "not a file name"},
		{"GET", "/api/cnn?arch=conv(4,3)-flatten-linear(5)", "", 400, "class scores"},
		{"GET", "/api/cnn?arch=conv(4", "", 400, "arch"},
		{"GET", "/api/cnn?arch=cnn", "", 400, "more than the"},
		{"GET", "/api/cnn?arch=cnn&batch=8", "", 400, "the page trains at most 200000"},
		{"GET", "/api/cnn?lr=-1", "", 400, "lr must be a positive"},
		{"GET", "/api/cnn?epochs=0", "", 400, "epochs must be at least 1"},
		{"GET", "/api/cnn?epochs=100000", "", 400, "epochs must be at most"},
		{"GET", "/api/cnn?batch=1&epochs=10", "", 400, "steps"},
		{"GET", "/api/cnn?optimizer=lbfgs", "", 400, "unknown optimiser"},
		{"GET", "/api/cnn?weight-decay=-2", "", 400, "weight-decay"},
		{"GET", "/api/cnn?index=-1", "", 400, "index must be"},
		{"GET", "/api/cnn?index=x", "", 400, "index must be"},
		{"GET", "/api/cnn?index=10000", "", 400, "index must be in [0, 10000)"},
		{"GET", "/api/cnn?maps=0", "", 400, "maps must be"},
		{"GET", "/api/cnn?maps=17", "", 400, "maps must be"},
		{"GET", "/api/cnn?rate=-1", "", 400, "rate"},
		{"GET", "/api/cnn?autoplay=yes", "", 400, "autoplay"},
		{"GET", "/api/cnn?hidden=10", "", 400, "unknown parameter"},
		{"GET", "/api/cnn?val=0.1", "", 400, "unknown parameter"},
		{"GET", "/api/cnn?data-dir=/tmp", "", 400, "unknown parameter"},
		{"GET", "/api/cnn?lr=0.1&lr=0.2", "", 400, "given 2 times"},
		{"GET", "/api/cnn?arch=" + strings.Repeat("relu-", 500), "", 400, "too long"},
		{"GET", "/api/cnn/images?n=0", "", 400, "n must be"},
		{"GET", "/api/cnn/images?n=101", "", 400, "n must be"},
		{"GET", "/api/cnn/images?from=-1", "", 400, "from must be"},
		{"GET", "/api/cnn/images?from=10000", "", 400, "from must be below 10000"},
		{"GET", "/api/cnn/images?data=../x", "", 400, "data must be"},
		{"GET", "/api/cnn/images?path=/etc", "", 400, "unknown parameter"},
		{"POST", "/api/cnn", "", 405, "Method Not Allowed"},
		{"POST", "/api/control", "id=x&action=image&index=1", 404, "no training with that id"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if c.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := strings.TrimSuffix(string(b), "\n")
		if resp.StatusCode != c.code || !strings.Contains(body, c.reason) || strings.Contains(body, "\n") {
			t.Errorf("%s %.90s: %d %q; want %d, one line containing %q", c.method, c.path, resp.StatusCode, body, c.code, c.reason)
		}
	}

	// A session's commands: image only for a CNN's, with an index of its
	// test set; predict only for the playground's.
	cnn := openStreamPath(t, ts.URL, "/api/cnn", url.Values{"batch": {"16"}})
	cid := cnn.init().ID
	play := openStream(t, ts.URL, url.Values{"epochs": {"1"}})
	pid := play.init().ID
	for _, c := range []struct {
		form   url.Values
		code   int
		reason string
	}{
		{url.Values{"id": {cid}, "action": {"image"}, "index": {"x"}}, 400, "index must be an integer in [0, 10000)"},
		{url.Values{"id": {cid}, "action": {"image"}, "index": {"10000"}}, 400, "index must be an integer in [0, 10000)"},
		{url.Values{"id": {cid}, "action": {"image"}}, 400, "index must be"},
		{url.Values{"id": {pid}, "action": {"image"}, "index": {"1"}}, 400, "the playground's"},
	} {
		resp, err := http.PostForm(ts.URL+"/api/control", c.form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.reason) {
			t.Errorf("POST /api/control %v: %d %q; want %d %q", c.form, resp.StatusCode, b, c.code, c.reason)
		}
	}
	resp, err := http.Get(ts.URL + "/api/predict?" + url.Values{"id": {cid}, "pts": {"0,0"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "CNN view's") {
		t.Errorf("predict on a CNN session: %s %q", resp.Status, b)
	}
	// The session survived the bad commands.
	if code := postControl(t, ts.URL, cid, "step"); code != http.StatusNoContent {
		t.Errorf("step after the bad commands: %d", code)
	}
	if f := cnn.cnnFrame(); f.Step != 0 { // the first frame, before any step
		t.Errorf("first frame at step %d", f.Step)
	}
	if f := cnn.cnnFrame(); f.Step != 1 {
		t.Errorf("frame after one step at step %d", f.Step)
	}
}

// A CNN session's frames: the chosen test image with its true label, class
// probabilities that sum to 1, each layer's feature maps, the filters, and
// after one step their gradient: the one the step used (Adam's first step
// moves each weight by −lr·sign(g)). Picking another image shows it.
func TestServeCNNFrames(t *testing.T) {
	te := mnistTest(t)
	ts := newTestServer(t, testLimits())
	const lr = 0.003
	s := openStreamPath(t, ts.URL, "/api/cnn", url.Values{"batch": {"16"}, "lr": {"0.003"}, "optimizer": {"adam"}, "schedule": {"constant"},
		"epochs": {"1"}, "index": {"5"}, "maps": {"4"}, "seed": {"3"}})
	in := s.init()
	for _, want := range []string{"nabla train --data mnist --arch", defaultCNNArch, "--optimizer adam", "--lr 0.003", "--batch 16", "--seed 3"} {
		if !strings.Contains(in.Command, want) {
			t.Errorf("command %q lacks %q", in.Command, want)
		}
	}
	f0 := s.cnnFrame()
	check := func(f cnnFrameT, index int) {
		t.Helper()
		var sum float64
		for _, p := range f.Probs {
			sum += p
		}
		if f.Index != index || f.Label != te.Y[index] || len(f.Probs) != 10 || math.Abs(sum-1) > 1e-9 {
			t.Errorf("frame of image %d: index %d, label %d (want %d), probabilities %v (sum %v)", index, f.Index, f.Label, te.Y[index], f.Probs, sum)
		}
		x, _ := te.Batch([]int{index})
		img, _ := base64.StdEncoding.DecodeString(f.Image.Map)
		px := x.Values()
		for k := range img {
			if want := math.Round(255 * (px[k] - f.Image.Lo) / (f.Image.Hi - f.Image.Lo)); float64(img[k]) != want {
				t.Fatalf("image %d pixel %d: byte %d, want %v", index, k, img[k], want)
			}
		}
		if len(f.Features) != 4 || f.Features[0].C != 8 || f.Features[0].H != 24 || len(f.Features[0].Maps) != 4 || f.Features[3].H != 4 {
			t.Errorf("feature layers %+v", f.Features)
		}
		for _, l := range f.Features {
			for c, m := range l.Maps {
				b, _ := base64.StdEncoding.DecodeString(m.Map)
				if len(b) != l.H*l.W {
					t.Errorf("layer %s channel %d: %d bytes for %d×%d", l.Path, c, len(b), l.H, l.W)
				}
			}
		}
		if !(f.Saliency.Hi > 0) {
			t.Errorf("saliency map of image %d is blank: %+v", index, f.Saliency)
		}
	}
	check(f0, 5)
	if f0.Step != 0 || f0.LossAvg != nil || f0.Filters == nil || len(f0.Filters.Weights) != 8 || len(f0.Filters.Weights[0]) != 25 || f0.Filters.Grads != nil {
		t.Fatalf("first frame: step %d, loss %v, filters %+v", f0.Step, f0.LossAvg, f0.Filters)
	}
	if code := postControl(t, ts.URL, in.ID, "step"); code != http.StatusNoContent {
		t.Fatalf("step: %d", code)
	}
	f1 := s.cnnFrame()
	check(f1, 5)
	if f1.Step != 1 || f1.LossAvg == nil || !(*f1.LossAvg > 1.5 && *f1.LossAvg < 3.5) || f1.Filters.Grads == nil {
		t.Fatalf("frame after a step: step %d, loss %v, grads %v", f1.Step, f1.LossAvg, f1.Filters.Grads != nil)
	}
	moved := 0
	for o, g := range f1.Filters.Grads {
		for k, gk := range g {
			d := f1.Filters.Weights[o][k] - f0.Filters.Weights[o][k]
			if math.Abs(gk) < 1e-5 {
				continue
			}
			moved++
			if math.Abs(d+lr*math.Copysign(1, gk)) > 0.01*lr {
				t.Errorf("filter %d weight %d: gradient %g, moved by %g, want −lr·sign(g) = %g", o, k, gk, d, -lr*math.Copysign(1, gk))
			}
		}
	}
	if moved < 100 {
		t.Errorf("only %d of 200 filter weights had a gradient", moved)
	}
	// Another image, while paused: a frame of it comes at once.
	resp, err := http.PostForm(ts.URL+"/api/control", url.Values{"id": {in.ID}, "action": {"image"}, "index": {"9"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("image: %s", resp.Status)
	}
	f2 := s.cnnFrame()
	check(f2, 9)
	if f2.Step != 1 {
		t.Errorf("the image's frame at step %d, want 1 (picking trains nothing)", f2.Step)
	}
}

// The CNN view's run is buildRun's: the same initial weights, and steps on
// the same batch give the same bits (the view builds it over the shared,
// loaded data sets instead of loading them again).
func TestServeCNNRunIsBuildRuns(t *testing.T) {
	p, _, err := parseCNN(url.Values{"batch": {"8"}, "lr": {"0.01"}, "optimizer": {"momentum"}, "schedule": {"onecycle"}, "epochs": {"2"}, "seed": {"11"}, "clip": {"1"}}, testLimits())
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := cnnData("mnist")
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildCNNRun(p.flags, tr, te)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildRun(p.flags, "", serveMemory)
	if err != nil {
		t.Fatal(err)
	}
	if a.spec.Text() != b.spec.Text() || a.trainer.Config.Epochs != b.trainer.Config.Epochs || a.trainer.Config.Batch != b.trainer.Config.Batch ||
		a.trainer.Config.ClipNorm != b.trainer.Config.ClipNorm || a.train.Len() != b.train.Len() || b.val != nil {
		t.Fatalf("the runs differ: %s / %s, config %+v / %+v", a.spec.Text(), b.spec.Text(), a.trainer.Config, b.trainer.Config)
	}
	for _, r := range []*trainRun{a, b} {
		if err := r.trainer.Start(); err != nil {
			t.Fatal(err)
		}
	}
	x, y := tr.Batch([]int{3, 1, 4, 1, 5, 9, 2, 6})
	for step := range 3 {
		ra, err1 := a.trainer.Step(x, y)
		rb, err2 := b.trainer.Step(x, y)
		if err1 != nil || err2 != nil || ra != rb {
			t.Fatalf("step %d: %+v %v / %+v %v", step+1, ra, err1, rb, err2)
		}
	}
	pa, pb := a.model.Params(), b.model.Params()
	for i := range pa {
		if !slices.Equal(pa[i].Node.Value().Values(), pb[i].Node.Value().Values()) {
			t.Fatalf("parameter %s differs after 3 steps", pa[i].Name)
		}
	}
	if nn.NumParams(a.model) == 0 {
		t.Fatal("no parameters")
	}
}

// The CNN view's trainings share the playground's slots and limits: with
// one slot taken the next waits; a training stops at the time limit.
func TestServeCNNLimits(t *testing.T) {
	lim := testLimits()
	lim.Trainings, lim.Queue = 1, 2
	lim.TrainTime = 300 * time.Millisecond
	srv := newServer(lim)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	a := openStream(t, ts.URL, url.Values{"epochs": {"1"}})
	a.init()
	b := openStreamPath(t, ts.URL, "/api/cnn", url.Values{"autoplay": {"1"}, "epochs": {"5"}, "batch": {"64"}})
	if ev := b.next(); ev.Name != "queued" {
		t.Fatalf("the CNN training beside a playground one: %s, want queued", ev.Name)
	}
	a.close()
	b.init()
	st := b.untilState("limit")
	if !strings.Contains(st["message"].(string), "limit") {
		t.Errorf("limit message %q", st["message"])
	}
	b.close()
	waitFor(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.sessions) == 0 && len(srv.slots) == 0
	}, "every session ended and its slot freed")
}

// The picker's thumbnails are the test images, with their labels;
// Fashion-MNIST's come with its class names where the machine has it, and
// are refused with the reason where it has not.
func TestServeCNNImages(t *testing.T) {
	te := mnistTest(t)
	ts := newTestServer(t, testLimits())
	for _, c := range []struct{ from, n, want int }{{5, 3, 3}, {9998, 10, 2}} {
		resp, err := http.Get(ts.URL + "/api/cnn/images?" + url.Values{"data": {"mnist"}, "from": {strconv.Itoa(c.from)}, "n": {strconv.Itoa(c.n)}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			From, Total, H, W int
			Labels            []int
			Images            string
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("images from %d: %s %v", c.from, resp.Status, err)
		}
		b, _ := base64.StdEncoding.DecodeString(d.Images)
		if d.From != c.from || d.Total != 10000 || d.H != 28 || d.W != 28 || len(d.Labels) != c.want || len(b) != c.want*784 {
			t.Fatalf("images from %d: %+v with %d bytes", c.from, d, len(b))
		}
		for k, y := range d.Labels {
			x, _ := te.Batch([]int{c.from + k})
			if y != te.Y[c.from+k] {
				t.Errorf("image %d: label %d, want %d", c.from+k, y, te.Y[c.from+k])
			}
			for i, v := range x.Values() {
				if float64(b[k*784+i]) != math.Round(255*v) {
					t.Fatalf("image %d pixel %d: %d, want %v", c.from+k, i, b[k*784+i], 255*v)
				}
			}
		}
	}
	resp, err := http.Get(ts.URL + "/api/cnn/images?data=fashion-mnist&n=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, ferr := data.FindFashionMNIST(""); ferr != nil {
		if resp.StatusCode != 400 || !strings.Contains(string(b), "fashion-mnist is not on this server") || !strings.Contains(string(b), "dataset-fashion-mnist") {
			t.Errorf("Fashion-MNIST absent: %s %q", resp.Status, b)
		}
	} else if resp.StatusCode != 200 || !strings.Contains(string(b), "Ankle boot") {
		t.Errorf("Fashion-MNIST: %s %.200q", resp.Status, b)
	}
}
