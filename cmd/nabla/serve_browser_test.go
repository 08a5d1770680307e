package main

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser the page test drives. Without one the
// test skips on a developer's machine but fails in CI (CI set), where
// .ci/run installs Debian's chromium.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but no chromium is installed (.ci/run installs it: apt-get install -y chromium)")
	}
	t.Skip("no chromium installed (CI installs it; locally: apt-get install -y chromium)")
	return ""
}

// TestServeInBrowser opens each view in headless chromium: the playground
// trains (the displayed loss falls, the boundary canvas is drawn in the
// colours of the model's predictions), a reloaded URL restores the same
// settings and command, the stepper shows the notes' gradients, and the
// activation explorer draws and trains. With NABLA_SCREENSHOTS set to a
// folder it saves a screenshot of each view there (docs/ holds them).
func TestServeInBrowser(t *testing.T) {
	exe := findChromium(t)
	ts := httptest.NewServer(newServer(testLimits()))
	defer ts.Close()
	shots := os.Getenv("NABLA_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1300, 950),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first call starts the browser, with no deadline (a deadline
	// there would stop the browser); later calls run under one.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	ctx, cancelT := context.WithTimeout(bctx, 120*time.Second)
	defer cancelT()

	// The helpers take the (sub)test they report to.
	run := func(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	evalStr := func(t *testing.T, js string) string { t.Helper(); return evalJS[string](t, ctx, js) }
	// poll evaluates js until it is true.
	poll := func(t *testing.T, what, js string, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !evalJS[bool](t, ctx, js) {
			if time.Now().After(deadline) {
				status := evalStr(t, `(document.getElementById('status')||{}).textContent + ' / ' + (document.getElementById('warning')||{}).textContent`)
				t.Fatalf("timed out waiting for %s (page status: %s)", what, status)
			}
			time.Sleep(15 * time.Millisecond)
		}
	}
	shot := func(t *testing.T, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("playground", func(t *testing.T) {
		q := "view=playground&data=spiral&hidden=8,8&activation=tanh&optimizer=adam&lr=0.03&schedule=constant&batch=16&epochs=15&val=0.3&seed=1&rate=150"
		run(t, "open", chromedp.Navigate(ts.URL+"/?"+q))
		poll(t, "the session", `document.body.dataset.state === 'paused'`, 10*time.Second)
		run(t, "play", chromedp.Click(chromedp.ID("play")))
		poll(t, "the first epoch", `+document.getElementById('epoch').textContent >= 1`, 10*time.Second)
		first := evalStr(t, `document.getElementById('train-loss').textContent`)
		poll(t, "the end of training", `document.body.dataset.state === 'done'`, 30*time.Second)
		last := evalStr(t, `document.getElementById('train-loss').textContent`)
		l0, e0 := strconv.ParseFloat(first, 64)
		l1, e1 := strconv.ParseFloat(last, 64)
		if e0 != nil || e1 != nil || !(l1 < 0.9*l0) {
			t.Errorf("displayed training loss %q after epoch 1, %q at the end: it did not fall", first, last)
		}

		// The boundary: sample cells, read their pixels, and compare the
		// class each pixel's colour shows with the model's prediction there.
		type infoT struct {
			ID      string
			Lo, Hi  [2]float64
			G       int
			W       int
			Palette [][3]float64
		}
		info := evalJS[infoT](t, ctx, `({ID: Play.id, Lo: Play.info.lo, Hi: Play.info.hi, G: Play.info.grid, W: document.getElementById('boundary').width, Palette: PALETTE})`)
		var cells [][2]int
		for k := 0; k < 40; k++ {
			cells = append(cells, [2]int{(k*7 + 3) % info.G, (k*13 + 5) % info.G})
		}
		js := fmt.Sprintf(`(() => { const c = document.getElementById('boundary').getContext('2d'); const cell = %d / %d;
			return %s.map(([i, j]) => Array.from(c.getImageData(Math.floor((i + 0.5) * cell), Math.floor((j + 0.5) * cell), 1, 1).data)); })()`,
			info.W, info.G, jsPairs(cells))
		pix := evalJS[[][]float64](t, ctx, js)
		var pts [][2]float64
		for _, c := range cells {
			pts = append(pts, [2]float64{
				info.Lo[0] + (float64(c[0])+0.5)*(info.Hi[0]-info.Lo[0])/float64(info.G),
				info.Hi[1] - (float64(c[1])+0.5)*(info.Hi[1]-info.Lo[1])/float64(info.G),
			})
		}
		pred := getPredict(t, ts.URL, info.ID, pts)
		seen := map[int]bool{}
		for k, p := range pix {
			if p[0] == 255 && p[1] == 255 && p[2] == 255 || p[3] != 255 {
				t.Fatalf("cell %v is blank: rgba %v", cells[k], p)
			}
			c := colourClass(p, info.Palette)
			seen[c] = true
			if c != pred.Classes[k] {
				t.Errorf("cell %v at %v: the canvas shows class %d (rgba %v), the model predicts %d", cells[k], pts[k], c, p, pred.Classes[k])
			}
		}
		if len(seen) < 2 {
			t.Errorf("the sampled boundary shows only classes %v", seen)
		}
		shot(t, "serve-playground.png")
	})

	t.Run("url-restores-state", func(t *testing.T) {
		// Change a setting through the form, then reload the URL.
		evalJS[bool](t, ctx, `(() => { const s = document.querySelector('#pg-form [name=activation]'); s.value = 'relu'; s.dispatchEvent(new Event('change')); return true; })()`)
		poll(t, "the new session", `document.body.dataset.state === 'paused' && document.getElementById('command').textContent.includes('--activation relu')`, 10*time.Second)
		state := `JSON.stringify([...document.querySelectorAll('#pg-form [name]')].map((e) => e.name + '=' + e.value)) + ' ' + document.getElementById('command').textContent`
		before := evalStr(t, state)
		href := evalStr(t, `location.href`)
		run(t, "reload", chromedp.Navigate(href))
		poll(t, "the reloaded session", `document.body.dataset.state === 'paused'`, 10*time.Second)
		after := evalStr(t, state)
		if before != after || !strings.Contains(after, "--activation relu") {
			t.Errorf("before reload: %s\nafter reload:  %s", before, after)
		}
	})

	t.Run("stepper", func(t *testing.T) {
		run(t, "open", chromedp.Navigate(ts.URL+"/?view=stepper"))
		poll(t, "the graph", `document.querySelectorAll('#st-graph .node').length >= 10`, 10*time.Second)
		run(t, "all the way", chromedp.Click(chromedp.ID("st-all")))
		poll(t, "the gradients", `document.querySelectorAll('#st-grads .var-grad').length === 2`, 5*time.Second)
		grads := evalStr(t, `document.getElementById('st-grads').textContent`)
		for _, want := range []string{"dx = [0.39, -0.59]", "dw = [-0.20, -0.39, 0.20]"} {
			if !strings.Contains(grads, want) {
				t.Errorf("the stepper shows %q, without %q", grads, want)
			}
		}
		// The whole backward pass, the last op's Jacobian open: the screenshot.
		run(t, "jacobian", chromedp.Click(chromedp.CSS(`#st-explain button[data-edge="0"]`)))
		poll(t, "the Jacobian", `document.querySelector('#st-explain .jac') !== null`, 5*time.Second)
		shot(t, "serve-stepper.png")
		run(t, "restart", chromedp.Click(chromedp.ID("st-restart")))
		for i := 0; i < 3; i++ {
			run(t, "back one op", chromedp.Click(chromedp.ID("st-back")))
		}
		run(t, "jacobian", chromedp.Click(chromedp.CSS(`#st-explain button[data-edge="0"]`)))
		explain := evalStr(t, `document.getElementById('st-explain').textContent`)
		if !strings.Contains(explain, "step 3 of 10") || !strings.Contains(explain, "never builds it") {
			t.Errorf("the explanation after 3 steps reads %q", explain)
		}
		href := evalStr(t, `location.href`)
		before := evalStr(t, `document.getElementById('st-graph').textContent`)
		run(t, "reload", chromedp.Navigate(href))
		poll(t, "the reloaded graph", `document.querySelectorAll('#st-graph .node').length >= 10`, 10*time.Second)
		after := evalStr(t, `document.getElementById('st-graph').textContent`)
		if before != after {
			t.Errorf("the reloaded stepper differs:\n%s\n%s", before, after)
		}
	})

	t.Run("activations", func(t *testing.T) {
		run(t, "open", chromedp.Navigate(ts.URL+"/?view=activations&setup=1"))
		poll(t, "the curves", `document.querySelectorAll('#act-list input').length >= 9`, 10*time.Second)
		evalJS[bool](t, ctx, `(() => { const c = document.getElementById('act-plot'), r = c.getBoundingClientRect();
			c.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.6, clientY: r.top + 10})); return true; })()`)
		hover := evalStr(t, `document.getElementById('act-hover').textContent`)
		if !strings.Contains(hover, "x = 1.000") || !strings.Contains(hover, "tanh′ 0.4200") {
			t.Errorf("hovering x = 1 shows %q", hover)
		}
		run(t, "train", chromedp.Click(chromedp.ID("deep-play")))
		poll(t, "five epochs of histograms", `document.querySelectorAll('#deep-hists figure').length === 10 && /^epoch ([5-9]|\d\d)\//.test(document.getElementById('deep-status').textContent)`, 60*time.Second)
		cmd := evalStr(t, `document.getElementById('deep-command').textContent`)
		if !strings.Contains(cmd, "--activation tanh") || !strings.Contains(cmd, "--hidden 64,64,64,64,64,64,64,64,64,64") {
			t.Errorf("the deep run's command %q", cmd)
		}
		shot(t, "serve-activations.png")
		run(t, "stop", chromedp.Click(chromedp.ID("deep-stop")))
	})

	t.Run("cnn", func(t *testing.T) {
		te := mnistTest(t)
		run(t, "open", chromedp.Navigate(ts.URL+"/?view=cnn&c-rate=100&c-batch=32&img=3"))
		poll(t, "the CNN session", `document.body.dataset.cnn === 'paused' && document.querySelectorAll('#cnn-probs [data-p]').length === 10 && document.querySelectorAll('#cnn-thumbs canvas').length === 20`, 20*time.Second)
		run(t, "pick image 7", chromedp.Click(chromedp.CSS(`#cnn-thumbs canvas[data-index="7"]`)))
		poll(t, "image 7", `document.getElementById('cnn-index-label').textContent.startsWith('#7 ')`, 10*time.Second)
		if got, want := evalStr(t, `document.getElementById('cnn-label').textContent`), strconv.Itoa(te.Y[7]); got != want {
			t.Errorf("test image 7 shows true class %q, want %q", got, want)
		}
		probs := evalJS[[]float64](t, ctx, `[...document.querySelectorAll('#cnn-probs [data-p]')].map((e) => +e.dataset.p)`)
		var sum float64
		for _, p := range probs {
			sum += p
		}
		if len(probs) != 10 || math.Abs(sum-1) > 1e-6 {
			t.Errorf("the class probabilities %v sum to %v", probs, sum)
		}
		// A feature map, the saliency map and a filter are drawn, not blank.
		for _, sel := range []string{"#cnn-features canvas.fmap", "#cnn-saliency", "#cnn-filters canvas"} {
			n := evalJS[int](t, ctx, fmt.Sprintf(`(() => { const c = document.querySelector(%q), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
				const s = new Set(); for (let i = 0; i < d.length; i += 4) s.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); return s.size; })()`, sel))
			if n < 5 {
				t.Errorf("%s has %d colours: blank", sel, n)
			}
		}
		if n := evalJS[int](t, ctx, `document.querySelectorAll('#cnn-features canvas.fmap').length`); n < 16 {
			t.Errorf("%d feature maps drawn", n)
		}
		run(t, "train", chromedp.Click(chromedp.ID("cnn-play")))
		poll(t, "the first steps", `+document.getElementById('cnn-stepno').textContent >= 1 && document.getElementById('cnn-loss').textContent !== '–'`, 10*time.Second)
		first := evalStr(t, `document.getElementById('cnn-loss').textContent`)
		poll(t, "150 steps", `+document.getElementById('cnn-stepno').textContent >= 150`, 30*time.Second)
		run(t, "pause", chromedp.Click(chromedp.ID("cnn-play")))
		poll(t, "paused", `document.body.dataset.cnn === 'paused'`, 5*time.Second)
		last := evalStr(t, `document.getElementById('cnn-loss').textContent`)
		l0, e0 := strconv.ParseFloat(first, 64)
		l1, e1 := strconv.ParseFloat(last, 64)
		if e0 != nil || e1 != nil || !(l1 < 0.7*l0) {
			t.Errorf("displayed loss %q after the first steps, %q after 150: it did not fall", first, last)
		}
		if n := evalJS[int](t, ctx, `document.querySelectorAll('#cnn-grads canvas').length`); n != 8 {
			t.Errorf("%d filter gradients drawn after training, want 8", n)
		}
		if rows := evalStr(t, `document.querySelector('#cnn-layers tbody').textContent`); !strings.Contains(rows, "Conv2d(1, 8") || !strings.Contains(rows, "Linear(256, 10)") {
			t.Errorf("the layers' table reads %q", rows)
		}
		shot(t, "serve-cnn.png")
		// A reloaded URL restores the settings and the image.
		href := evalStr(t, `location.href`)
		run(t, "reload", chromedp.Navigate(href))
		poll(t, "the reloaded session", `document.body.dataset.cnn === 'paused' && document.getElementById('cnn-index-label').textContent.startsWith('#7 ')`, 20*time.Second)
		if cmd := evalStr(t, `document.getElementById('cnn-command').textContent`); !strings.Contains(cmd, "--batch 32") || !strings.Contains(cmd, "--data mnist") {
			t.Errorf("the reloaded command %q", cmd)
		}
	})
}

func jsPairs(cells [][2]int) string {
	var s []string
	for _, c := range cells {
		s = append(s, fmt.Sprintf("[%d,%d]", c[0], c[1]))
	}
	return "[" + strings.Join(s, ",") + "]"
}

// colourClass is the class whose colour, blended with white, is closest
// to the pixel: the page draws white + a·(colour − white).
func colourClass(p []float64, palette [][3]float64) int {
	best, bestD := -1, math.Inf(1)
	for c, col := range palette {
		var dot, nn float64
		for k := 0; k < 3; k++ {
			dot += (p[k] - 255) * (col[k] - 255)
			nn += (col[k] - 255) * (col[k] - 255)
		}
		a := dot / nn
		var d float64
		for k := 0; k < 3; k++ {
			r := p[k] - (255 + a*(col[k]-255))
			d += r * r
		}
		if a > 0 && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// evalJS evaluates js in the page and decodes its value.
func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %.200s: %v", js, err)
	}
	return v
}
